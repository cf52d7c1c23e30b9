package handlers

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/rtmessenger/rtmessenger/internal/attack"
)

// untilData reads s until an event whose data holds text, and returns it.
func (s *stream) untilData(text string) (id int64, data string) {
	s.t.Helper()
	for {
		ev := s.next()
		if strings.Contains(ev.Data, text) {
			return ev.IntID(), ev.Data
		}
	}
}

// An edit, a reaction and a delete each reach the room's members live, as
// one event under a new event id, and nobody else; a stream that resumes
// from before them gets each message as it now is, even though the
// messages are older than where it resumes.
func TestChangesReachMembersAndReplay(t *testing.T) {
	a := newApp(t)
	ann, bob, eve := a.signup("ann"), a.signup("bob"), a.signup("eve")
	room := ann.createRoom("lobby")
	bob.join(room)
	ann.say(room, "helo wrld")
	ann.say(room, "to be deleted")
	msgs, _, _ := a.store.History(t.Context(), room, 0, 10)
	typo, doomed := msgs[len(msgs)-2], msgs[len(msgs)-1]
	path := func(id int64, act string) string { return fmt.Sprintf("/rooms/%d/messages/%d/%s", room, id, act) }

	bs, es := bob.open("", nil), eve.open("", nil)
	a.waitConns(2)
	if res := ann.post(path(typo.ID, "edit"), url.Values{"body": {"hello world"}}, htmx); res.status != http.StatusOK || !strings.Contains(res.body, "hello world") {
		t.Fatalf("edit: %d %.200s", res.status, res.body)
	}
	editID, data := bs.untilData("hello world")
	if editID <= doomed.ID || !strings.Contains(data, `id="msg-`+strconv.FormatInt(typo.ID, 10)+`"`) || !strings.Contains(data, `class="edited"`) {
		t.Fatalf("edit event %d: %s", editID, data)
	}
	if res := bob.post(path(typo.ID, "reactions"), url.Values{"emoji": {"🎉"}}, htmx); res.status != http.StatusNoContent {
		t.Fatalf("react: %d", res.status)
	}
	reactID, data := bs.untilData("🎉")
	if reactID <= editID || strings.Contains(data, "hello world") || !strings.Contains(data, `id="rx-`) {
		t.Fatalf("reaction event %d is not the small one: %s", reactID, data)
	}
	if res := ann.post(path(doomed.ID, "delete"), nil, nil); res.status != http.StatusSeeOther {
		t.Fatalf("delete: %d", res.status)
	}
	deleteID, _ := bs.untilData("Message deleted")
	sentinel(t, eve, eve.createRoom("own"), "marker for eve")
	if _, data := es.untilData("marker for eve"); strings.Contains(data, "lobby") {
		t.Fatal("eve's stream carried the lobby")
	}

	// Resuming from just after the second message: all three changes come
	// back as the messages' current versions, in event order.
	resumed := bob.open("?after="+strconv.FormatInt(doomed.ID, 10), nil)
	first := resumed.next()
	second := resumed.next()
	if first.IntID() != reactID || !strings.Contains(first.Data, "hello world") || !strings.Contains(first.Data, "🎉") {
		t.Fatalf("first replayed %d: %s", first.IntID(), first.Data)
	}
	if second.IntID() != deleteID || !strings.Contains(second.Data, "Message deleted") || strings.Contains(second.Data, "to be deleted") {
		t.Fatalf("second replayed %d: %s", second.IntID(), second.Data)
	}
}

// Bad input to every new path is refused with a reason and changes
// nothing; HTML in an edit or a reply is shown as text.
func TestChangesRefuseBadInput(t *testing.T) {
	a := newApp(t)
	ann, bob := a.signup("ann"), a.signup("bob")
	room := ann.createRoom("lobby")
	bob.join(room)
	ann.say(room, "original")
	msgs, _, _ := a.store.History(t.Context(), room, 0, 10)
	m := msgs[len(msgs)-1]
	edit := fmt.Sprintf("/rooms/%d/messages/%d/edit", room, m.ID)

	for _, c := range []struct {
		path   string
		form   url.Values
		status int
	}{
		{edit, url.Values{"body": {""}}, http.StatusUnprocessableEntity},
		{edit, url.Values{"body": {"bad \xff utf-8"}}, http.StatusUnprocessableEntity},
		{edit, url.Values{"body": {strings.Repeat("x", 4001)}}, http.StatusUnprocessableEntity},
		{fmt.Sprintf("/rooms/%d/messages/%d/reactions", room, m.ID), url.Values{"emoji": {"🍕"}}, http.StatusUnprocessableEntity},
		{fmt.Sprintf("/rooms/%d/messages/999/edit", room), url.Values{"body": {"x"}}, http.StatusNotFound},
		{fmt.Sprintf("/rooms/%d/messages/nope/delete", room), nil, http.StatusNotFound},
		{fmt.Sprintf("/rooms/%d/messages", room), url.Values{"body": {"re"}, "reply_to": {"999"}}, http.StatusSeeOther}, // to the room, saying why
	} {
		if res := ann.post(c.path, c.form, nil); res.status != c.status {
			t.Errorf("%s %v: %d, want %d", c.path, c.form, res.status, c.status)
		}
	}
	// A refused edit comes back as the message's page with the reason, the
	// form still there; a refused reply keeps its quote.
	res := ann.post(edit, url.Values{"body": {"   "}}, nil)
	mustContain(t, res.body, `<p class="error" role="alert" id="edit-`, `class="stack edit-form"`)
	res = bob.post(fmt.Sprintf("/rooms/%d/messages", room), url.Values{"body": {""}, "reply_to": {strconv.FormatInt(m.ID, 10)}}, nil)
	if res.status != http.StatusSeeOther {
		t.Fatalf("an empty reply: %d", res.status)
	}
	res = bob.get(res.location, nil)
	mustContain(t, res.body, "Message is empty.", `name="reply_to" value="`+strconv.FormatInt(m.ID, 10)+`"`, "Replying to", "<b>ann</b>", "original")
	for _, payload := range attack.XSS {
		ann.post(edit, url.Values{"body": {payload}}, nil)
		bob.post(fmt.Sprintf("/rooms/%d/messages", room), url.Values{"body": {payload}, "reply_to": {strconv.FormatInt(m.ID, 10)}}, nil)
	}
	page := bob.get(fmt.Sprintf("/rooms/%d", room), nil).body
	actions := ann.get(fmt.Sprintf("/rooms/%d/messages/%d/actions", room, m.ID), nil).body
	for _, body := range []string{page, actions} {
		for _, payload := range attack.XSS {
			if strings.ContainsAny(payload, "<>") && strings.Contains(body, payload) {
				t.Errorf("%q came out unescaped", payload)
			}
		}
	}
	if !strings.Contains(actions, "Earlier versions") {
		t.Error("the creator's page shows no earlier versions")
	}
}
