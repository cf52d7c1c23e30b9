package views

import (
	"testing"

	"github.com/rtmessenger/rtmessenger/chat"
)

// A typing event names at most four typists (more read "several people"
// on every page) but counts them all; names stay text.
func TestTypingEvent(t *testing.T) {
	var typists []chat.Typist
	for i, name := range []string{"<b>ann</b>", "bob", "cat", "dan", "eve"} {
		typists = append(typists, chat.Typist{ID: int64(i + 1), Name: name})
	}
	for _, c := range []struct {
		n    int
		want string
	}{
		{0, `<ul data-room="7" data-count="0"></ul>`},
		{2, `<ul data-room="7" data-count="2"><li data-user="1">&lt;b&gt;ann&lt;/b&gt;</li><li data-user="2">bob</li></ul>`},
		{5, `<ul data-room="7" data-count="5"><li data-user="1">&lt;b&gt;ann&lt;/b&gt;</li><li data-user="2">bob</li><li data-user="3">cat</li><li data-user="4">dan</li></ul>`},
	} {
		if got := render(t, TypingEvent(7, typists[:c.n])); got != c.want {
			t.Errorf("%d typists:\n got %s\nwant %s", c.n, got, c.want)
		}
	}
}

// A presence event groups its changes by state, a few bytes per person.
func TestPresenceEvent(t *testing.T) {
	got := render(t, PresenceEvent(7, []chat.PresenceChange{
		{User: 1, State: chat.PresenceAway}, {User: 2, State: chat.PresenceOnline},
		{User: 3, State: chat.PresenceAway}, {User: 4, State: chat.PresenceOffline},
	}))
	want := `<ul data-room="7"><li data-presence="online" data-users="2"></li><li data-presence="away" data-users="1 3"></li>` +
		`<li data-presence="offline" data-users="4"></li></ul>`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if got := render(t, PresenceDot(9, chat.PresenceAway)); got != `<span class="presence" data-presence-of="9" data-presence="away" title="Away"><span class="visually-hidden"> (Away) </span></span>` {
		t.Errorf("dot: %s", got)
	}
}
