package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rtmessenger/rtmessenger/internal/poll"
	"github.com/rtmessenger/rtmessenger/internal/pwhash"
	"github.com/rtmessenger/rtmessenger/store"
)

// -retention-days: a server started on a database with month-old messages
// deletes them; a page resuming from before them is told to reload.
func TestRetentionOnARunningServer(t *testing.T) {
	db := filepath.Join(t.TempDir(), "old.db")
	monthAgo := func() time.Time { return time.Now().Add(-30 * 24 * time.Hour) }
	st, err := store.Open(t.Context(), db, store.Options{Now: monthAgo})
	if err != nil {
		t.Fatal(err)
	}
	anna, err := st.CreateUser(t.Context(), "anna", pwhash.Hash("secret-anna", pwhash.Params{MemoryKiB: 64, Passes: 1, Lanes: 1}))
	if err != nil {
		t.Fatal(err)
	}
	room, err := st.CreateRoom(t.Context(), anna, "old-times", "")
	if err != nil {
		t.Fatal(err)
	}
	first, _ := st.PostMessage(t.Context(), room.ID, anna, "a month old", "")
	for i := range 30 {
		st.PostMessage(t.Context(), room.ID, anna, fmt.Sprint("old ", i), "")
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	s := startServer(t, db, "-retention-days", "7")
	poll.Until(t, "the old messages to be deleted", func() bool { return len(messageBodies(t, db)) == 0 })
	p := s.newcomer("anna")
	if !p.login("secret-anna") {
		t.Fatal("anna cannot sign in")
	}
	roomPath := fmt.Sprintf("/rooms/%d", room.ID)
	p.say(roomPath, "fresh")
	if ev := p.stream(fmt.Sprint(first.ID)).next(); ev.Name != "rtm-reset" {
		t.Fatalf("resuming from a deleted message: got %+v, want a reset", ev)
	}
	p.stream("").nothingBefore(p, roomPath, "a freshly loaded page is not reset")
	if !s.log.has(`msg="retention: deleted old messages" count=`) {
		t.Fatal("the deletion was not logged")
	}
}

// has reports whether a line of the log contains text.
func (l *serverLog) has(text string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range l.lines {
		if strings.Contains(line, text) {
			return true
		}
	}
	return false
}
