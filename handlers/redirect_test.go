package handlers

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Every form a browser, or a proxy that decodes first, could resolve to
// another origin is refused; ordinary local paths pass unchanged.
func TestLocalTarget(t *testing.T) {
	hostile := []string{
		"",
		"//evil.example",
		"///evil.example",
		`/\evil.example`,
		`\/evil.example`,
		`/%5Cevil.example`,
		`/%5cevil.example`,
		"/%09/evil.example",
		"/%0a/evil.example",
		"/%0D/evil.example",
		"/%2F/evil.example",
		"/%2f/evil.example",
		"/%252F/evil.example", // encoded twice
		"%2F%2Fevil.example",
		"/.//evil.example",
		"/./%2Fevil.example",
		"/x/../%2Fevil.example",
		"/ /evil.example",
		"/\t/evil.example",
		"\t//evil.example",
		" /rooms",
		"/rooms ",
		"/x\r\nLocation: //evil.example",
		"/%E3%80%80/evil.example", // ideographic space
		"/\u3000/evil.example",
		"/%00",
		"https://evil.example",
		"https:evil.example",
		"http:/evil.example",
		"HTTPS://evil.example/rooms",
		"javascript:alert(1)",
		"data:text/html,<script>alert(1)</script>",
		"evil.example",
		"rooms/7",
		"/%zz",
		"/rooms/" + strings.Repeat("x", maxRedirectLen),
	}
	for _, s := range hostile {
		got, err := localTarget(s)
		if err == nil || got != "" {
			t.Errorf("localTarget(%q) = %q, %v; want refused", s, got, err)
		}
	}
	for _, s := range []string{"/", "/rooms", "/rooms/7", "/rooms/7?x=1", "/people?q=a%20b", "/people/bob.smith", "/rooms/", "/rooms/7#msg-9", "/people?q=%2F%2Fx"} {
		if got, err := localTarget(s); err != nil || got != s {
			t.Errorf("localTarget(%q) = %q, %v; want it unchanged", s, got, err)
		}
	}
}

// The transport switch refuses a hostile next with a clear 422 and saves
// nothing; a good one is followed.
func TestTransportSwitchRefusesOffSiteNext(t *testing.T) {
	a := newApp(t)
	alice := a.signup("alice")
	room := fmt.Sprintf("/rooms/%d", alice.createRoom("general"))
	for _, next := range []string{"/%09/evil.example", "//evil.example", `/\evil.example`, "https://evil.example/"} {
		res := alice.post("/settings/transport", url.Values{"transport": {"ws"}, "next": {next}}, nil)
		if res.status != http.StatusUnprocessableEntity || res.location != "" || !strings.Contains(res.body, "address on this site") {
			t.Errorf("next %q: %d to %q, want 422 saying why", next, res.status, res.location)
		}
	}
	mustNotContain(t, alice.get("/rooms", nil).body, `id="socket"`) // nothing was saved
	res := alice.post("/settings/transport", url.Values{"transport": {"ws"}, "next": {room + "?x=1"}}, nil)
	if res.status != http.StatusSeeOther || res.location != room+"?x=1" {
		t.Fatalf("good next: %d %q", res.status, res.location)
	}
	if res := alice.post("/settings/transport", url.Values{"transport": {"sse"}}, nil); res.location != "/rooms" {
		t.Fatalf("no next: %q, want /rooms", res.location)
	}
	// The sidebar takes the page's path from the script: never an off-site one.
	side := alice.get("/sidebar?path=%2F%2Fevil.example", htmx).body
	mustContain(t, side, `name="next" value=""`)
	mustContain(t, alice.get("/sidebar?path="+url.QueryEscape(room), htmx).body, `name="next" value="`+room+`"`)
}
