package e2e

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rtmessenger/rtmessenger/internal/browsertest"
)

// StartProxy runs nginx with the project's own site configuration
// (deploy/nginx.conf) in front of servers until the test ends, and returns
// a Server whose URL is the proxy's: tabs opened on it go through nginx.
func StartProxy(t *testing.T, servers ...*Server) *Server {
	t.Helper()
	bin := browsertest.Nginx(t)
	site, err := os.ReadFile(filepath.Join(moduleRoot(t), "deploy", "nginx.conf"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	addr := freeAddr(t)
	var upstreams strings.Builder
	for _, s := range servers {
		fmt.Fprintf(&upstreams, "    server %s max_fails=1 fail_timeout=2s;\n", strings.TrimPrefix(s.URL, "http://"))
	}
	conf := regexp.MustCompile(`(?m)^\s*server 127\.0\.0\.1:8080.*\n`).ReplaceAllLiteralString(string(site), upstreams.String())
	conf = strings.Replace(conf, "listen 80;", "listen "+addr+";", 1)
	if err := os.WriteFile(filepath.Join(dir, "site.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;" // workers would otherwise drop to an account that cannot read the temp dir
	}
	top := fmt.Sprintf(`%s
daemon off;
worker_processes 1;
pid %[2]s/nginx.pid;
error_log %[2]s/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path %[2]s/body;
    proxy_temp_path %[2]s/proxy;
    fastcgi_temp_path %[2]s/fastcgi;
    uwsgi_temp_path %[2]s/uwsgi;
    scgi_temp_path %[2]s/scgi;
    include %[2]s/site.conf;
}
`, user, dir)
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(top), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-p", dir, "-c", filepath.Join(dir, "nginx.conf"))
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGQUIT)
		_ = cmd.Wait()
	})
	url := "http://" + addr
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, err := http.Get(url + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Fatalf("nginx did not answer at %s: %v\n%s", url, err, log)
		}
		time.Sleep(50 * time.Millisecond) // the polling interval, not a wait for something
	}
	return &Server{URL: url, t: t}
}

// freeAddr finds a free loopback port for a process that cannot take :0.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// moduleRoot is the directory holding go.mod, above the test's own.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test")
		}
		dir = parent
	}
}
