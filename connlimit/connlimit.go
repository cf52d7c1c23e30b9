// Package connlimit caps the connections a server holds for clients that
// have not shown a signed-in session. Anyone can open connections and
// trickle bytes into them; deadlines end each one eventually, and this cap
// bounds how many such connections exist meanwhile, per client address and
// in all. A connection that carries a signed-in request is trusted from
// then on and no longer counts, so signed-in users are never refused
// because of strangers.
package connlimit

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Options set the caps; zero or less means no cap.
type Options struct {
	// PerAddress caps anonymous connections from one client IP address.
	PerAddress int
	// Total caps anonymous connections from everyone.
	Total int
	// Refusal, if set, is written to a refused connection before it is
	// closed (a plain-HTTP 503); leave it nil under TLS, where the client
	// would read it as garbage.
	Refusal []byte
	// OnRefuse is called for each refused connection, with its address.
	OnRefuse func(addr string)
}

// Listener wraps a listener with the caps. Use ConnContext as the
// http.Server's ConnContext so that handlers can Trust a connection.
type Listener struct {
	net.Listener
	opt Options

	mu     sync.Mutex
	byAddr map[string]int
	total  int
}

// Wrap returns l with the caps of opt.
func Wrap(l net.Listener, opt Options) *Listener {
	return &Listener{Listener: l, opt: opt, byAddr: make(map[string]int)}
}

// Accept returns the next connection within the caps; one over a cap is
// refused and closed, and Accept waits for the next.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		addr := hostOf(c.RemoteAddr())
		if l.take(addr) {
			return &conn{Conn: c, l: l, addr: addr}, nil
		}
		go l.refuse(c, addr)
	}
}

// Anonymous reports how many connections count against the caps now.
func (l *Listener) Anonymous() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total
}

func (l *Listener) take(addr string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.opt.Total > 0 && l.total >= l.opt.Total {
		return false
	}
	if l.opt.PerAddress > 0 && l.byAddr[addr] >= l.opt.PerAddress {
		return false
	}
	l.total++
	l.byAddr[addr]++
	return true
}

func (l *Listener) release(addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total--
	if l.byAddr[addr]--; l.byAddr[addr] <= 0 {
		delete(l.byAddr, addr)
	}
}

// refuseWait bounds how long a refusal may take to write.
const refuseWait = time.Second

func (l *Listener) refuse(c net.Conn, addr string) {
	if l.opt.OnRefuse != nil {
		l.opt.OnRefuse(addr)
	}
	if l.opt.Refusal != nil {
		_ = c.SetWriteDeadline(time.Now().Add(refuseWait))
		_, _ = c.Write(l.opt.Refusal)
	}
	c.Close()
}

// conn is an accepted connection; it counts until trusted or closed.
type conn struct {
	net.Conn
	l    *Listener
	addr string
	done atomic.Bool // released: trusted or closed
}

func (c *conn) releaseOnce() {
	if c.done.CompareAndSwap(false, true) {
		c.l.release(c.addr)
	}
}

func (c *conn) Close() error {
	c.releaseOnce()
	return c.Conn.Close()
}

// SyscallConn reaches the socket under the count, for those that watch it
// without a goroutine of their own (the hub's streams).
func (c *conn) SyscallConn() (syscall.RawConn, error) {
	if sc, ok := c.Conn.(syscall.Conn); ok {
		return sc.SyscallConn()
	}
	return nil, errors.ErrUnsupported
}

type ctxKey struct{}

// ConnContext is for http.Server.ConnContext: it lets Trust find the
// connection a request arrived on.
func (l *Listener) ConnContext(ctx context.Context, c net.Conn) context.Context {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	if cc, ok := c.(*conn); ok && cc.l == l {
		return context.WithValue(ctx, ctxKey{}, cc)
	}
	return ctx
}

// Trust marks the connection of a request's context as a signed-in user's:
// it stops counting against the caps. It does nothing for a context that
// came through no Listener.
func Trust(ctx context.Context) {
	if c, ok := ctx.Value(ctxKey{}).(*conn); ok {
		c.releaseOnce()
	}
}

func hostOf(a net.Addr) string {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.IP.String()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}

var _ syscall.Conn = (*conn)(nil) // see SyscallConn
