// Package nginxtest runs Debian's nginx with the project's own site
// configuration (deploy/nginx.conf) in front of servers, so that tests go
// through the reverse proxy people deploy: the file under test is the one
// shipped, with only the upstream addresses and the listen port filled in.
package nginxtest

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

	"github.com/rtmessenger/rtmessenger/internal/poll"
)

// UpstreamHeader names the response header that says which upstream
// (host:port) served a request: tests use it to tell which node a stream
// landed on. When nginx tried several, it lists them, the last one last.
const UpstreamHeader = "X-Upstream"

// startLimit bounds the wait for nginx to answer: generous, as it only
// decides how long a broken start takes to fail on a loaded machine.
const startLimit = 10 * time.Second

// upstreamLine is the example upstream in deploy/nginx.conf, replaced by
// the test's servers.
var upstreamLine = regexp.MustCompile(`(?m)^\s*server 127\.0\.0\.1:8080.*\n`)

// Start runs nginx in front of upstreams (host:port) until the test ends
// and returns its base URL (http://127.0.0.1:port). Without nginx the test
// skips, or fails where nothing may skip (browsertest.Nginx).
func Start(t *testing.T, upstreams ...string) string {
	t.Helper()
	bin := browsertest.Nginx(t)
	dir, addr := t.TempDir(), freeAddr(t)
	if err := os.WriteFile(filepath.Join(dir, "site.conf"), []byte(site(t, addr, upstreams)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(top(dir)), 0o600); err != nil {
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
	waitAnswer(t, url, dir)
	return url
}

// site is deploy/nginx.conf with the test's upstreams and listen address.
func site(t *testing.T, addr string, upstreams []string) string {
	t.Helper()
	conf, err := os.ReadFile(filepath.Join(moduleRoot(t), "deploy", "nginx.conf"))
	if err != nil {
		t.Fatal(err)
	}
	if !upstreamLine.Match(conf) || !strings.Contains(string(conf), "listen 80;") {
		t.Fatal("deploy/nginx.conf no longer has the example upstream (server 127.0.0.1:8080 ...) and listen 80; that the test replaces")
	}
	var lines strings.Builder
	for _, u := range upstreams {
		fmt.Fprintf(&lines, "    server %s max_fails=1 fail_timeout=2s;\n", u)
	}
	out := upstreamLine.ReplaceAllLiteralString(string(conf), lines.String())
	return strings.Replace(out, "listen 80;", "listen "+addr+";", 1)
}

// top is the main configuration around the site: everything nginx writes
// stays in dir, and the upstream header is added (inherited by the site's
// location, which sets no header of its own).
func top(dir string) string {
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;" // workers would otherwise drop to an account that cannot read the temp dir
	}
	return fmt.Sprintf(`%s
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
    add_header %[3]s $upstream_addr always;
    include %[2]s/site.conf;
}
`, user, dir, UpstreamHeader)
}

// waitAnswer polls until nginx passes a health check through, or fails
// with its error log.
func waitAnswer(t *testing.T, url, dir string) {
	t.Helper()
	var err error
	answered := poll.Holds(startLimit, func() bool {
		var res *http.Response
		if res, err = http.Get(url + "/healthz"); err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	})
	if !answered {
		log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
		t.Fatalf("nginx did not answer at %s: %v\n%s", url, err, log)
	}
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
