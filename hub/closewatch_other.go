//go:build !linux

package hub

import "net"

// closeWatch is Linux's epoll watcher (closewatch_linux.go); elsewhere each
// raw stream watches for its client's going on a goroutine of its own.
type closeWatch struct{}

func newCloseWatch() *closeWatch { return nil }

func (w *closeWatch) watch(net.Conn, func()) (forget func(), ok bool) { return nil, false }

func (w *closeWatch) stop() {}
