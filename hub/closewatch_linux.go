package hub

import (
	"net"
	"os"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// closeWatch tells raw streams that their client went away, all through one
// epoll set instead of a goroutine blocked in Read per stream: that
// goroutine's stack and descriptor were a sixth of an idle stream's memory.
// The set's own descriptor is read through Go's poller, so no thread waits
// on it either.
//
// Each watched connection is registered one-shot for input or hang-up,
// under a token of its own rather than its descriptor: a descriptor closed
// and reused by the next connection cannot be mistaken for the old one.
type closeWatch struct {
	set  *os.File // the epoll instance, read through the poller
	epfd int      // its descriptor (Fd() would make it blocking)
	done chan struct{}

	mu      sync.Mutex
	next    uint64
	cancels map[uint64]func()
	stopped bool
}

// newCloseWatch starts a watcher, or returns nil where epoll cannot be had
// (streams then watch on goroutines of their own).
func newCloseWatch() *closeWatch {
	fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil
	}
	w := &closeWatch{set: os.NewFile(uintptr(fd), "stream-close-watch"), epfd: fd, done: make(chan struct{}), cancels: make(map[uint64]func())}
	rc, err := w.set.SyscallConn()
	if err != nil {
		w.set.Close()
		return nil
	}
	go w.loop(rc)
	return w
}

// watch calls cancel once c's client sends anything or hangs up. It
// returns a func to call once c is closed, or false if c cannot be watched
// here.
func (w *closeWatch) watch(c net.Conn, cancel func()) (forget func(), ok bool) {
	sc, isSys := c.(syscall.Conn)
	if w == nil || !isSys {
		return nil, false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil, false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped {
		return nil, false
	}
	w.next++
	token := w.next
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLONESHOT}
	setToken(&ev, token)
	var fd int
	ctlErr := rc.Control(func(raw uintptr) {
		fd = int(raw)
		err = unix.EpollCtl(w.epfd, unix.EPOLL_CTL_ADD, fd, &ev)
	})
	if ctlErr != nil || err != nil {
		return nil, false
	}
	w.cancels[token] = cancel
	return func() { w.forget(token) }, true
}

// forget stops watching a connection, once its stream has closed it:
// closing the socket took it out of the set, so only its token is left.
func (w *closeWatch) forget(token uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.cancels, token)
}

// loop cancels the streams whose clients the set reports, until stop
// closes the set. Go's poller wakes it when the set has events; it takes
// them without waiting, and goes back to the poller only once none are
// left (the poller's wake-up is edge-triggered).
func (w *closeWatch) loop(rc syscall.RawConn) {
	defer close(w.done)
	defer w.giveUp()
	events := make([]unix.EpollEvent, 128)
	var failed error
	for failed == nil {
		err := rc.Read(func(fd uintptr) bool {
			for {
				n, err := unix.EpollWait(int(fd), events, 0)
				switch {
				case err == unix.EINTR:
					continue
				case err != nil:
					failed = err
				case n == 0:
					return false
				default:
					w.fire(events[:n])
				}
				return true
			}
		})
		if err != nil {
			return // stop closed the set
		}
	}
}

func (w *closeWatch) fire(events []unix.EpollEvent) {
	w.mu.Lock()
	var due []func()
	for i := range events {
		token := tokenOf(&events[i])
		if cancel, ok := w.cancels[token]; ok {
			delete(w.cancels, token)
			due = append(due, cancel)
		}
	}
	w.mu.Unlock()
	for _, cancel := range due {
		cancel()
	}
}

// giveUp ends a watcher whose set failed. The streams it watched are
// ended (their clients come back at once, on a new stream), since nothing
// would tell them of a client that half-closed; streams from now on watch
// on goroutines of their own.
func (w *closeWatch) giveUp() {
	w.mu.Lock()
	if w.stopped {
		w.mu.Unlock()
		return
	}
	w.stopped = true
	w.set.Close()
	watched := w.cancels
	w.cancels = map[uint64]func(){}
	w.mu.Unlock()
	for _, cancel := range watched {
		cancel()
	}
}

// stop ends the watcher; connections still watched are no longer told.
func (w *closeWatch) stop() {
	if w == nil {
		return
	}
	w.mu.Lock()
	if w.stopped {
		w.mu.Unlock()
		<-w.done
		return
	}
	w.stopped = true
	w.mu.Unlock()
	w.set.Close() // wakes the loop's read with an error
	<-w.done
}

// An epoll event's 64 bits of user data are its Fd and Pad fields.
func setToken(ev *unix.EpollEvent, token uint64) {
	ev.Fd, ev.Pad = int32(uint32(token)), int32(uint32(token>>32))
}

func tokenOf(ev *unix.EpollEvent) uint64 {
	return uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
}
