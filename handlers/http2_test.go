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

	"github.com/rtmessenger/rtmessenger/internal/sseclient"
)

// Over TLS, Go's server speaks HTTP/2: every stream and request of a
// browser shares one connection, so the browser's six-connection limit no
// longer applies. Streams, posts beside them, resume and shutdown all work
// there.
func TestStreamsOverHTTP2(t *testing.T) {
	a := newApp(t)
	alice := a.signup("alice")
	room := alice.createRoom("general")

	h2 := httptest.NewUnstartedServer(a.srv.Config.Handler)
	h2.EnableHTTP2 = true
	h2.StartTLS()
	t.Cleanup(h2.Close)
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(h2.URL)
	plain, _ := url.Parse(a.srv.URL)
	jar.SetCookies(u, alice.c.Jar.Cookies(plain))
	client := h2.Client()
	client.Jar = jar
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	open := func(lastEventID string) (*http.Response, *sseclient.Background) {
		t.Helper()
		a.settle() // see browser.open
		req, _ := http.NewRequest("GET", h2.URL+"/events", nil)
		if lastEventID != "" {
			req.Header.Set("Last-Event-ID", lastEventID)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 200 || resp.ProtoMajor != 2 {
			t.Fatalf("stream: %s over %s", resp.Status, resp.Proto)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp, sseclient.Read(resp.Body)
	}
	post := func(body string) {
		t.Helper()
		res, err := client.PostForm(fmt.Sprintf("%s/rooms/%d/messages", h2.URL, room), url.Values{"body": {body}})
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusSeeOther || res.ProtoMajor != 2 {
			t.Fatalf("post: %s over %s", res.Status, res.Proto)
		}
	}
	next := func(bg *sseclient.Background, want string) sseclient.Event {
		t.Helper()
		ev, err := bg.Next(10 * time.Second)
		if err != nil || !strings.Contains(ev.Data, want) {
			t.Fatalf("want %q, got %+v, %v", want, ev, err)
		}
		return ev
	}

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
