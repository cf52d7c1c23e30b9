package handlers

import (
	"context"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rtmessenger/rtmessenger/hub"
	"github.com/rtmessenger/rtmessenger/internal/sseclient"
)

// h2Rig reaches an app over TLS, where Go's server speaks HTTP/2, signed
// in as one browser's user.
type h2Rig struct {
	t      *testing.T
	a      *app
	srv    *httptest.Server
	client *http.Client
	room   int64
}

func newH2Rig(t *testing.T, a *app, b *browser, room int64) *h2Rig {
	h2 := httptest.NewUnstartedServer(a.srv.Config.Handler)
	h2.EnableHTTP2 = true
	h2.StartTLS()
	t.Cleanup(h2.Close)
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(h2.URL)
	plain, _ := url.Parse(a.srv.URL)
	jar.SetCookies(u, b.c.Jar.Cookies(plain))
	client := h2.Client()
	client.Jar = jar
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &h2Rig{t: t, a: a, srv: h2, client: client, room: room}
}

func (r *h2Rig) open(lastEventID string) (*http.Response, *sseclient.Background) {
	r.t.Helper()
	r.a.settle() // see browser.open
	req, _ := http.NewRequest("GET", r.srv.URL+"/events", nil)
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.ProtoMajor != 2 {
		r.t.Fatalf("stream: %s over %s", resp.Status, resp.Proto)
	}
	r.t.Cleanup(func() { resp.Body.Close() })
	return resp, sseclient.Read(resp.Body)
}

func (r *h2Rig) post(body string) {
	r.t.Helper()
	res, err := r.client.PostForm(fmt.Sprintf("%s/rooms/%d/messages", r.srv.URL, r.room), url.Values{"body": {body}})
	if err != nil {
		r.t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || res.ProtoMajor != 2 {
		r.t.Fatalf("post: %s over %s", res.Status, res.Proto)
	}
}

func (r *h2Rig) next(bg *sseclient.Background, want string) sseclient.Event {
	r.t.Helper()
	ev, err := bg.Next(10 * time.Second)
	if err != nil || !strings.Contains(ev.Data, want) {
		r.t.Fatalf("want %q, got %+v, %v", want, ev, err)
	}
	return ev
}

// Over TLS, Go's server speaks HTTP/2: every stream and request of a
// browser shares one connection, so the browser's six-connection limit no
// longer applies. Streams, posts beside them, resume and shutdown all work
// there.
func TestStreamsOverHTTP2(t *testing.T) {
	a := newApp(t)
	alice := a.signup("alice")
	room := alice.createRoom("general")
	r := newH2Rig(t, a, alice, room)
	open, post, next := r.open, r.post, r.next

	// As many streams as one browser may hold, and a post beside them,
	// all multiplexed on one connection.
	var streams []*sseclient.Background
	for range 3 {
		_, bg := open("")
		streams = append(streams, bg)
	}
	first, bg := open("")
	streams = append(streams, bg)
	a.waitConns(4)
	post("over http/2")
	var seen sseclient.Event
	for _, bg := range streams {
		seen = next(bg, "over http/2")
	}

	// Resume: what was posted while no stream was open is replayed.
	first.Body.Close()
	// The reset reaches the server in its own time: until then the
	// browser's four streams are all still counted, and a fifth refused.
	a.waitConns(3)
	post("while away")
	_, again := open(seen.ID)
	next(again, "while away")

	// Shutdown ends every stream cleanly.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.hub.Close(ctx); err != nil {
		t.Fatalf("streams over HTTP/2 did not end at shutdown: %v", err)
	}
	for i, bg := range append(streams[:3], again) {
		if !bg.Ended(10 * time.Second) {
			t.Fatalf("stream %d still open after shutdown", i)
		}
	}
}

// On HTTP/2 a write deadline resets the stream when it passes, even with
// nothing being written: a quiet stream must outlive its write timeout
// (here with no heartbeat at all) and still get the next event.
func TestQuietHTTP2StreamOutlivesItsWriteTimeout(t *testing.T) {
	const writeTimeout = 200 * time.Millisecond
	a := newAppWith(t, hub.Options{WriteTimeout: writeTimeout, HeartbeatTicks: make(chan time.Time)}, nil, nil)
	alice := a.signup("alice")
	room := alice.createRoom("general")
	r := newH2Rig(t, a, alice, room)
	_, bg := r.open("")
	a.waitConns(1)
	r.post("before the quiet")
	r.next(bg, "before the quiet")
	// The quiet itself is what is tested: five write timeouts with
	// nothing sent.
	<-time.After(5 * writeTimeout)
	r.post("after the quiet")
	r.next(bg, "after the quiet")
}
