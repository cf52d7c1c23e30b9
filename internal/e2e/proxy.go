package e2e

import (
	"strings"
	"testing"

	"github.com/rtmessenger/rtmessenger/internal/nginxtest"
)

// StartProxy runs nginx with the project's own site configuration
// (deploy/nginx.conf) in front of servers until the test ends, and returns
// a Server whose URL is the proxy's: tabs opened on it go through nginx.
func StartProxy(t *testing.T, servers ...*Server) *Server {
	t.Helper()
	addrs := make([]string, len(servers))
	for i, s := range servers {
		addrs[i] = strings.TrimPrefix(s.URL, "http://")
	}
	return &Server{URL: nginxtest.Start(t, addrs...), t: t}
}
