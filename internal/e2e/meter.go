package e2e

import (
	"bytes"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
)

// WireMeter is a TCP relay between the browser and a server that counts
// the bytes the server sends on each connection, by the path of the
// connection's first request. It is for WebSockets, whose bytes on the
// wire Chromium does not report: DevTools gives each message's text,
// inflated.
type WireMeter struct {
	URL string // base URL through the meter

	t      *testing.T
	target string
	mu     sync.Mutex
	sent   map[string]int64 // by the first request's path
	conns  []net.Conn
}

// StartWireMeter runs a meter in front of s until the test ends. Open
// tabs on m.Server() to go through it.
func StartWireMeter(t *testing.T, s *Server) *WireMeter {
	t.Helper()
	target, ln := listenInFront(t, s)
	m := &WireMeter{URL: "http://" + ln.Addr().String(), t: t, target: target.Host, sent: map[string]int64{}}
	go m.accept(ln)
	t.Cleanup(func() {
		ln.Close()
		m.mu.Lock()
		defer m.mu.Unlock()
		for _, c := range m.conns {
			c.Close()
		}
	})
	return m
}

// Server is the meter as a server to open tabs on.
func (m *WireMeter) Server() *Server { return &Server{URL: m.URL, t: m.t} }

// To is what the server sent so far on connections whose first request's
// path starts with prefix.
func (m *WireMeter) To(prefix string) int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	var n int64
	for path, b := range m.sent {
		if strings.HasPrefix(path, prefix) {
			n += b
		}
	}
	return n
}

func (m *WireMeter) accept(ln net.Listener) {
	for {
		client, err := ln.Accept()
		if err != nil {
			return
		}
		go m.relay(client)
	}
}

// relay passes one connection through, counting what the server sends.
func (m *WireMeter) relay(client net.Conn) {
	server, err := net.Dial("tcp", m.target)
	if err != nil {
		client.Close()
		return
	}
	m.mu.Lock()
	m.conns = append(m.conns, client, server)
	m.mu.Unlock()
	defer client.Close()
	defer server.Close()
	first := make([]byte, 8192)
	n, err := client.Read(first)
	if err != nil {
		return
	}
	path := ""
	if f := strings.Fields(string(first[:bytes.IndexByte(append(first[:n:n], '\n'), '\n')])); len(f) > 1 {
		path = f[1]
	}
	if _, err := server.Write(first[:n]); err != nil {
		return
	}
	go func() {
		io.Copy(server, client)
		server.Close()
	}()
	io.Copy(&counter{w: client, add: func(n int) { m.add(path, n) }}, server)
}

func (m *WireMeter) add(path string, n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent[path] += int64(n)
}

type counter struct {
	w   io.Writer
	add func(int)
}

func (c *counter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.add(n)
	return n, err
}
