package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rtmessenger/rtmessenger/internal/nginxtest"
)

// visitor is a browser without script, with a known password.
type visitor struct {
	*person
}

func (s *server) visitor() *visitor {
	jar, _ := cookiejar.New(nil)
	p := &person{s: s, c: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
	s.t.Cleanup(p.c.CloseIdleConnections)
	return &visitor{p}
}

// page fetches path (a form when form is not nil) and returns the status,
// redirect and body.
func (v *visitor) page(method, path string, form url.Values) (int, string, string) {
	v.s.t.Helper()
	req, _ := http.NewRequest(method, v.s.url+path, strings.NewReader(form.Encode()))
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := v.c.Do(req)
	if err != nil {
		v.s.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(body)
}

// expect fetches path and fails unless it answers status (and, for a
// redirect, to location).
func (v *visitor) expect(method, path string, form url.Values, status int, location string) string {
	v.s.t.Helper()
	got, loc, body := v.page(method, path, form)
	if got != status || loc != location {
		v.s.t.Fatalf("%s %s: %d to %q, want %d to %q\n%.500s", method, path, got, loc, status, location, body)
	}
	return body
}

func (v *visitor) cookie() string {
	u, _ := url.Parse(v.s.url)
	for _, c := range v.c.Jar.Cookies(u) {
		if strings.HasSuffix(c.Name, "rtm_session") {
			return c.Value
		}
	}
	v.s.t.Fatal("no session cookie")
	return ""
}

var (
	inviteToken  = regexp.MustCompile(`/invite/([A-Za-z0-9_-]{20,})`)
	welcomeToken = regexp.MustCompile(`/welcome/([A-Za-z0-9_-]{20,})`)
)

// The check: a realistic session (sign-up, log-in, a message, an
// invitation link, a sign-in link, streams) and then not one of its
// secrets anywhere in the log, at debug level, while every line is JSON
// and every request has its line.
func TestLogsKeepSecrets(t *testing.T) {
	s := startServer(t, filepath.Join(t.TempDir(), "secrets.db"), "-log-format", "json", "-log-level", "debug",
		"-public-url", "http://chat.example.test")
	const (
		password    = "Correct-Horse-7f3a9c"
		benPassword = "Battery-Staple-2b8e4d"
		newPassword = "Tr0ub4dor-and-3-91d7"
		text        = "the eagle lands at midnight 51c0"
	)
	anna := s.visitor()
	anna.expect("POST", "/signup", url.Values{"username": {"anna"}, "password": {password}}, http.StatusSeeOther, "/rooms")
	firstCookie := anna.cookie()
	anna.expect("POST", "/logout", url.Values{}, http.StatusSeeOther, "/login")
	anna.expect("POST", "/login", url.Values{"username": {"anna"}, "password": {password}}, http.StatusSeeOther, "/rooms")
	room := anna.createRoom("plans")
	stream := anna.stream("")
	anna.say(room, text)
	if ev := stream.next(); !strings.Contains(ev.Data, text) {
		t.Fatalf("stream got %+v", ev)
	}
	stream.body.Close()

	// An invitation link, opened signed out: the token travels in the
	// path, then in the log-in form's query.
	_, shown, _ := anna.page("POST", room+"/invites", url.Values{"expires": {"24"}, "uses": {"1"}})
	m := inviteToken.FindStringSubmatch(anna.expect("GET", shown, nil, http.StatusOK, ""))
	if m == nil {
		t.Fatal("no invitation link on the page")
	}
	invite := m[1]
	ben := s.visitor()
	_, login, _ := ben.page("GET", "/invite/"+invite, nil)
	ben.expect("GET", login, nil, http.StatusOK, "")
	ben.expect("POST", "/signup", url.Values{"username": {"ben"}, "password": {benPassword}, "next": {"/invite/" + invite}}, http.StatusSeeOther, "/invite/"+invite)
	ben.expect("POST", "/invite/"+invite, url.Values{}, http.StatusSeeOther, room)

	// A sign-in link the admin makes for ben, spent on another device.
	_, shown, _ = anna.page("POST", "/people/ben/link", url.Values{})
	m = welcomeToken.FindStringSubmatch(anna.expect("GET", shown, nil, http.StatusOK, ""))
	if m == nil {
		t.Fatal("no sign-in link on the page")
	}
	welcome := m[1]
	phone := s.visitor()
	phone.expect("GET", "/welcome/"+welcome, nil, http.StatusOK, "")
	phone.expect("POST", "/welcome/"+welcome, url.Values{"password": {newPassword}}, http.StatusSeeOther, "/rooms")
	secrets := map[string]string{
		"password": password, "ben's password": benPassword, "the new password": newPassword, "the message": text,
		"the invitation token": invite, "the sign-in token": welcome,
		"anna's first cookie": firstCookie, "anna's cookie": anna.cookie(), "ben's cookie": ben.cookie(), "the phone's cookie": phone.cookie(),
	}
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}

	lines := s.log.all(t)
	routes := map[string]int{}
	for _, line := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("not a JSON line: %v\n%s", err, line)
		}
		if rec["msg"] == "request" {
			routes[rec["route"].(string)]++
		}
		for what, secret := range secrets {
			if strings.Contains(line, secret) {
				t.Errorf("%s is in the log:\n%s", what, line)
			}
		}
	}
	for _, route := range []string{"POST /signup", "POST /login", "POST /logout", "GET /events", "POST /rooms/{room}/messages",
		"GET /invite/{token}", "GET /login", "POST /invite/{token}", "POST /people/{username}/link", "GET /welcome/{token}", "POST /welcome/{token}"} {
		if routes[route] == 0 {
			t.Errorf("no request line for %s; have %v", route, routes)
		}
	}
}

// Behind the shipped nginx configuration one id names a request in both
// logs: nginx makes it, the server logs it and sends it back.
func TestRequestIDThroughNginx(t *testing.T) {
	s := startServer(t, filepath.Join(t.TempDir(), "proxied.db"), "-trust-proxy")
	base := nginxtest.Start(t, strings.TrimPrefix(s.url, "http://"))
	resp, err := http.Get(base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	id := resp.Header.Get("X-Request-Id")
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(id) {
		t.Fatalf("X-Request-Id %q: want nginx's $request_id", id)
	}
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	if log := strings.Join(s.log.all(t), "\n"); !strings.Contains(log, "request_id="+id+` method=GET route="GET /login"`) {
		t.Errorf("no request line with nginx's id %s in:\n%s", id, log)
	}
}
