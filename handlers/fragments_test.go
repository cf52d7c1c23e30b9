package handlers

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/rtmessenger/rtmessenger/chat"
	"github.com/rtmessenger/rtmessenger/hub"
)

// countRenders has f count its renders into renders, and mark each
// fragment with its number: bytes from one rendering carry the same mark.
func countRenders(f *Fragments, renders *atomic.Int64) {
	f.render = func(ctx context.Context, m chat.Message) ([]byte, error) {
		n := renders.Add(1)
		data, err := renderEvent(ctx, m)
		return fmt.Appendf(data, "<!-- rendering %d -->", n), err
	}
}

// A new post is rendered once however often its fragment is asked for; a
// change of it, a system line and a fragment too long to keep are
// rendered each time; the oldest posts are let go once fragmentsKept newer
// ones came.
func TestFragmentsRenderEachPostOnce(t *testing.T) {
	var renders atomic.Int64
	f := NewFragments()
	countRenders(f, &renders)
	m := chat.Message{ID: 1, RoomID: 7, AuthorID: 2, Author: "ann", Kind: chat.KindText, Body: "hello"}
	first, err := f.Message(t.Context(), m)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := f.Message(t.Context(), m)
	if renders.Load() != 1 || &first[0] != &again[0] {
		t.Fatalf("%d renders for one post asked for twice, or different bytes", renders.Load())
	}

	edited := m
	edited.Body, edited.Changed = "hello again", 2
	joined := chat.Message{ID: 3, RoomID: 7, AuthorID: 4, Author: "bob", Kind: chat.KindJoin, Members: 2}
	long := m
	long.ID, long.Body = 5, strings.Repeat("&", chat.MaxMessageRunes) // 5 bytes each, escaped
	for _, m := range []chat.Message{edited, joined, long} {
		renders.Store(0)
		f.Message(t.Context(), m)
		f.Message(t.Context(), m)
		if renders.Load() != 2 {
			t.Fatalf("message %d (kind %v, changed %d, %d bytes of text) was kept", m.ID, m.Kind, m.Changed, len(m.Body))
		}
	}

	for id := int64(100); id < 100+fragmentsKept; id++ {
		m := m
		m.ID = id
		f.Message(t.Context(), m)
	}
	renders.Store(0)
	f.Message(t.Context(), m) // the oldest, let go
	f.Message(t.Context(), chat.Message{ID: 100 + fragmentsKept - 1, RoomID: 7, Kind: chat.KindText})
	if renders.Load() != 1 || len(f.byID) > fragmentsKept {
		t.Fatalf("after %d newer messages: %d renders, %d kept", fragmentsKept, renders.Load(), len(f.byID))
	}

	var none *Fragments // a handler given no Fragments renders each time
	if data, err := none.Message(t.Context(), m); err != nil || !strings.Contains(string(data), "hello") {
		t.Fatalf("nil Fragments: %q, %v", data, err)
	}
}

// The answer to a post sent with htmx carries the message's fragment byte
// for byte as the stream delivers it, and so does the answer to the same
// post sent again, without rendering it again.
func TestPostAnswerCarriesTheStreamsFragment(t *testing.T) {
	var renders atomic.Int64
	a := newAppWith(t, hub.Options{}, nil, func(d *Deps) {
		countRenders(d.Fragments, &renders) // the relay's, as the server shares them
	})
	ann := a.signup("ann")
	room := ann.createRoom("lobby")
	s := ann.open("", nil) // after the room's creation went out
	renders.Store(0)

	form := url.Values{"body": {"once <b>only</b>"}, "client_id": {chat.NewClientID()}}
	res := ann.post(fmt.Sprintf("/rooms/%d/messages", room), form, htmx)
	if res.status != http.StatusOK {
		t.Fatalf("post: %d\n%.300s", res.status, res.body)
	}
	// Both may render at the same moment: then both send the bytes kept
	// first, so the stream's marked rendering must end the answer.
	_, streamed := s.untilData("once &lt;b&gt;only")
	if !strings.HasSuffix(res.body, streamed) || !strings.Contains(streamed, "<!-- rendering ") || !strings.Contains(res.body, `hx-target="#composer"`) {
		t.Fatalf("the answer does not end in the stream's fragment\nanswer: %s\nstream: %s", res.body, streamed)
	}
	// The same post again (its answer was lost, say) stores nothing and
	// gets the same fragment, kept: no rendering.
	a.settle()
	before := renders.Load()
	resent := ann.post(fmt.Sprintf("/rooms/%d/messages", room), form, htmx)
	if resent.status != http.StatusOK || !strings.HasSuffix(resent.body, streamed) {
		t.Fatalf("the resent post's answer (%d) does not end in the stream's fragment\n%s", resent.status, resent.body)
	}
	a.settle()
	if renders.Load() != before {
		t.Fatalf("the resent post's answer rendered the message again (%d renders, %d before)", renders.Load(), before)
	}
}
