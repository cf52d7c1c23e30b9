package handlers

import (
	"bytes"
	"context"
	"mime/multipart"
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/rtmessenger/rtmessenger/chat"
	"github.com/rtmessenger/rtmessenger/hub"
)

func TestHostIsOurs(t *testing.T) {
	tcp := func(s string) net.Addr { return net.TCPAddrFromAddrPort(netip.MustParseAddrPort(s)) }
	for _, c := range []struct {
		listen string
		local  net.Addr
		yes    []string
		no     []string
	}{
		{"127.0.0.1:8080", tcp("127.0.0.1:8080"),
			[]string{"127.0.0.1:8080", "localhost:8080", "LocalHost:8080", "[::1]:8080"},
			[]string{"evil.example", "evil.example:8080", "localhost:8081", "localhost", "127.0.0.2:8080", "", ":8080", "[::1]", "127.0.0.1:8080:1"}},
		// Every interface: the address the connection reached, or a loopback name.
		{":8080", tcp("192.168.1.5:8080"),
			[]string{"192.168.1.5:8080", "localhost:8080", "127.0.0.1:8080"},
			[]string{"192.168.1.6:8080", "evil.example:8080", "192.168.1.5:8081", "192.168.1.5"}},
		{"[::]:8080", tcp("[::ffff:127.0.0.1]:8080"), []string{"127.0.0.1:8080", "localhost:8080"}, []string{"evil.example:8080"}},
		// A name it was told to listen on.
		{"chat.lan:8080", tcp("192.168.1.5:8080"),
			[]string{"chat.lan:8080", "CHAT.LAN:8080", "192.168.1.5:8080"},
			[]string{"localhost:8080", "chat.lan", "chat.lan.evil.example:8080", "evil.example:8080"}},
		// Port 80 may be left out of the Host.
		{"192.168.1.5:80", tcp("192.168.1.5:80"), []string{"192.168.1.5", "192.168.1.5:80"}, []string{"evil.example", "localhost"}},
		// Port 0: the port the connection reached.
		{"127.0.0.1:0", tcp("127.0.0.1:43210"), []string{"127.0.0.1:43210", "localhost:43210"}, []string{"127.0.0.1:0", "evil.example:43210"}},
		// Without the connection's address, the configured one alone.
		{"127.0.0.1:8080", nil, []string{"localhost:8080", "127.0.0.1:8080"}, []string{"evil.example:8080", "192.168.1.5:8080"}},
		{"", nil, nil, []string{"localhost:8080", "127.0.0.1:8080", "evil.example"}},
	} {
		for _, h := range c.yes {
			if !hostIsOurs(h, "80", c.listen, c.local) {
				t.Errorf("listen %q, local %v: Host %q refused", c.listen, c.local, h)
			}
		}
		for _, h := range c.no {
			if hostIsOurs(h, "80", c.listen, c.local) {
				t.Errorf("listen %q, local %v: Host %q accepted", c.listen, c.local, h)
			}
		}
	}
}

// postHost posts as b with a forged Host header.
func (b *browser) postHost(host, path, contentType, body string) result {
	b.a.t.Helper()
	req, _ := http.NewRequest("POST", b.a.srv.URL+path, strings.NewReader(body))
	req.Host = host
	req.Header.Set("Content-Type", contentType)
	for _, c := range b.c.Jar.Cookies(req.URL) { // the client would pick them by Host
		req.AddCookie(c)
	}
	return b.do(req)
}

var welcomeLink = regexp.MustCompile(`value="(https?://[^"/]+)(/welcome/[A-Za-z0-9_-]+)"`)

// A forged Host never becomes a sign-in link: the admin is told to set
// -public-url, and nothing is made or stored (the old link keeps working).
func TestSignInLinksRefuseAForgedHost(t *testing.T) {
	a := newApp(t)
	admin := a.signup("admin")
	a.signup("eve")
	res := admin.follow(admin.post("/people/eve/link", nil, nil))
	old := welcomeLink.FindStringSubmatch(res.body)
	if res.status != http.StatusOK || old == nil {
		t.Fatalf("link from the server's own address: %d", res.status)
	}
	port := strconv.Itoa(a.srv.Listener.Addr().(*net.TCPAddr).Port)
	for _, host := range []string{"evil.example", "evil.example:" + port, "127.0.0.1.evil.example:" + port, "127.0.0.1:1"} {
		res = admin.postHost(host, "/people/eve/link", "application/x-www-form-urlencoded", "")
		if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "-public-url") || strings.Contains(res.body, "/welcome/") {
			t.Errorf("Host %q: %d, want 422 naming -public-url and no link\n%s", host, res.status, res.body)
		}
	}
	if page := a.browser().get(old[2], nil); page.status != http.StatusOK {
		t.Fatalf("the earlier link was replaced by a refused request: %d", page.status)
	}
	// The same server's loopback name is fine.
	res = admin.follow(admin.postHost("localhost:"+port, "/people/eve/link", "application/x-www-form-urlencoded", ""))
	if m := welcomeLink.FindStringSubmatch(res.body); res.status != http.StatusOK || m == nil || m[1] != "http://localhost:"+port {
		t.Fatalf("loopback name: %d %q", res.status, m)
	}
}

func TestImportRefusesAForgedHost(t *testing.T) {
	a := newApp(t)
	admin := a.signup("admin")
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "people.csv")
	fw.Write([]byte("username,display_name\ndana,Dana\n"))
	mw.Close()
	res := admin.follow(admin.postHost("evil.example", "/people/import", mw.FormDataContentType(), body.String()))
	if res.status != http.StatusOK || !strings.Contains(res.body, "-public-url") || strings.Contains(res.body, "/welcome/") {
		t.Fatalf("import with a forged Host: %d\n%s", res.status, res.body)
	}
	if _, err := a.store.Person(context.Background(), "dana"); chat.CodeOf(err) != chat.NotFound {
		t.Fatalf("a refused import stored dana: %v", err)
	}
}

// -public-url wins over any Host, forged or not.
func TestPublicURLWinsOverTheHost(t *testing.T) {
	a := newAppWith(t, hub.Options{}, nil, func(d *Deps) { d.PublicURL = "https://chat.example.com" })
	admin := a.signup("admin")
	a.signup("eve")
	res := admin.follow(admin.postHost("evil.example", "/people/eve/link", "application/x-www-form-urlencoded", ""))
	if m := welcomeLink.FindStringSubmatch(res.body); res.status != http.StatusOK || m == nil || m[1] != "https://chat.example.com" {
		t.Fatalf("public URL: %d %q", res.status, m)
	}
	res = admin.follow(admin.upload("/people/import", "people.csv", "username\ndana\n"))
	if m := welcomeLink.FindStringSubmatch(res.body); res.status != http.StatusOK || m == nil || m[1] != "https://chat.example.com" {
		t.Fatalf("import under a public URL: %d %q", res.status, m)
	}
}
