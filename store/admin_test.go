package store

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
	"github.com/rtmessenger/rtmessenger/internal/poll"
)

// Another process (an admin command) ends a session and deactivates a
// user in the file a server's store has cached them from: once the store
// looks (every checkpointEvery), its cache no longer hides the change.
// Its own writes do not flush the cache.
func TestAnotherProcessesChangesReachTheCache(t *testing.T) {
	sqliteOnly(t)
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "shared.db")
	var told atomic.Int32
	server := openAt(t, path, Options{manualCheckpoints: true, OnOutsideChange: func() { told.Add(1) }})
	alice, bob := mustUser(t, server, "alice"), mustUser(t, server, "bob")
	room := mustRoom(t, server, alice, "general")
	ss := server.Sessions()
	if err := ss.CommitCtx(ctx, "bobs-token", []byte("bob"), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := ss.FindCtx(ctx, "bobs-token"); !found {
		t.Fatal("session not found")
	}
	if u, _ := server.UserByID(ctx, bob.ID); u.Deactivated {
		t.Fatal("bob starts deactivated")
	}

	admin := openAt(t, path, Options{manualCheckpoints: true})
	if err := admin.Sessions().DeleteCtx(ctx, "bobs-token"); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.SetDeactivated(ctx, "bob", true, CommandLine); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := ss.FindCtx(ctx, "bobs-token"); !found {
		t.Fatal("the session is gone before the store looked: this test no longer tests the cache")
	}

	if err := server.noticeOtherWriters(ctx); err != nil {
		t.Fatal(err)
	}
	if n := told.Load(); n != 1 {
		t.Fatalf("the server was told of the other process's change %d times, want 1", n)
	}
	if _, found, _ := ss.FindCtx(ctx, "bobs-token"); found {
		t.Fatal("a session ended by another process still signs in")
	}
	if u, _ := server.UserByID(ctx, bob.ID); !u.Deactivated {
		t.Fatal("a deactivation by another process is hidden by the cache")
	}

	// The server's own commits leave the cache alone.
	if _, err := server.PostMessage(ctx, room.ID, alice, "mine", ""); err != nil {
		t.Fatal(err)
	}
	if err := server.noticeOtherWriters(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := server.cache.user(bob.ID); !ok {
		t.Fatal("the store's own commit flushed its cache")
	}
	if n := told.Load(); n != 1 {
		t.Fatalf("the store's own commit was reported as another process's (%d)", n)
	}
}

// The same through the background loop, as a running server has it.
func TestTheStoreLooksForOtherProcessesByItself(t *testing.T) {
	sqliteOnly(t)
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "shared.db")
	server := openAt(t, path, Options{})
	mustUser(t, server, "alice")
	bob := mustUser(t, server, "bob")
	if u, _ := server.UserByID(ctx, bob.ID); u.Admin {
		t.Fatal("bob starts an admin")
	}
	admin := openAt(t, path, Options{})
	if _, err := admin.SetAdmin(ctx, "bob", true, CommandLine); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, "the server's store to see bob as an admin", func() bool {
		u, err := server.UserByID(ctx, bob.ID)
		return err == nil && u.Admin
	})
}

// Changes made with the admin command are the store's own, recorded as
// by no one: the audit trail says so, and sign-in links work.
func TestCommandLineChanges(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	mustUser(t, s, "alice")
	bob := mustUser(t, s, "bob")
	if bob.Admin {
		t.Fatal("second user is an admin")
	}
	u, err := s.SetAdmin(ctx, "bob", true, CommandLine)
	if err != nil || !u.Admin {
		t.Fatalf("grant: %+v, %v", u, err)
	}
	if got, _ := s.UserByID(ctx, bob.ID); !got.Admin {
		t.Fatal("grant not seen by UserByID")
	}
	if u, err = s.SetAdmin(ctx, "bob", true, CommandLine); err != nil || !u.Admin {
		t.Fatalf("grant twice: %+v, %v", u, err)
	}
	if _, err := s.SetAdmin(ctx, "nobody", true, CommandLine); chat.CodeOf(err) != chat.NotFound {
		t.Fatalf("grant to nobody: %v", err)
	}
	if _, err := s.SetAdmin(ctx, "bob", false, bob); chat.CodeOf(err) != chat.Forbidden {
		t.Fatalf("revoke by a non-admin: %v", err)
	}
	if _, err := s.SetDeactivated(ctx, "bob", true, CommandLine); err != nil {
		t.Fatal(err)
	}
	changes, err := s.ProfileChanges(ctx, "bob", 10)
	if err != nil || len(changes) != 2 {
		t.Fatalf("audit trail: %+v, %v", changes, err)
	}
	if c := changes[1]; c.By != "" || c.Field != "admin" || c.Old != "no" || c.New != "yes" {
		t.Fatalf("grant recorded as %+v", c)
	}
	if c := changes[0]; c.By != "" || c.Field != "account" || c.New != "deactivated" {
		t.Fatalf("deactivation recorded as %+v", c)
	}

	carol, err := s.CreateAdmin(ctx, "carol", "hash", CommandLine)
	if err != nil || !carol.Admin {
		t.Fatalf("create admin: %+v, %v", carol, err)
	}
	if _, err := s.CreateAdmin(ctx, "CAROL", "hash", CommandLine); chat.CodeOf(err) != chat.Conflict {
		t.Fatalf("create a taken name: %v", err)
	}
	inv, err := s.CreateSignInLink(ctx, "carol", CommandLine)
	if err != nil {
		t.Fatal(err)
	}
	if u, err := s.SignInLinkUser(ctx, inv.Token); err != nil || u.ID != carol.ID {
		t.Fatalf("the command line's link: %+v, %v", u, err)
	}
}

func TestAllRoomsAndRoomsNamed(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	alice, bob := mustUser(t, s, "alice"), mustUser(t, s, "bob")
	general := mustRoom(t, s, alice, "General")
	if err := s.Join(ctx, general.ID, bob); err != nil {
		t.Fatal(err)
	}
	p1, err := s.CreatePrivateRoom(ctx, alice, "secret", "")
	if err != nil {
		t.Fatal(err)
	}
	p2, err := s.CreatePrivateRoom(ctx, bob, "Secret", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.StartConversation(ctx, alice, []string{"bob"}); err != nil {
		t.Fatal(err)
	}
	rooms, err := s.AllRooms(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rooms {
		got = append(got, fmt.Sprintf("%s (%d members)", r.Name, r.Members))
	}
	if len(rooms) != 3 || rooms[0].ID != general.ID || rooms[0].Members != 2 || rooms[1].ID != p1.ID || rooms[2].ID != p2.ID {
		t.Fatalf("AllRooms = %v; want General (2 members), then both private rooms, no conversation", got)
	}
	named, err := s.RoomsNamed(ctx, "SECRET")
	if err != nil || len(named) != 2 {
		t.Fatalf("RoomsNamed(SECRET) = %+v, %v", named, err)
	}
	if named, _ := s.RoomsNamed(ctx, "general"); len(named) != 1 || named[0].Members != 2 {
		t.Fatalf("RoomsNamed(general) = %+v", named)
	}
}

// The store's own truncating checkpoint starts the log over, which is not
// another process's change: it must not flush the cache (every session and
// user read again) nor tell the server to check every stream's session.
// Under heavy posting the log is truncated every second or two.
func TestOwnTruncationIsNotAnOutsideChange(t *testing.T) {
	sqliteOnly(t)
	ctx := t.Context()
	var told atomic.Int32
	s := openAt(t, filepath.Join(t.TempDir(), "own.db"), Options{WALTruncateFrames: 1, manualCheckpoints: true, OnOutsideChange: func() { told.Add(1) }})
	alice := mustUser(t, s, "alice")
	room := mustRoom(t, s, alice, "general")
	if err := s.noticeOtherWriters(ctx); err != nil { // the baseline
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := s.UserByID(ctx, alice.ID); err != nil { // cached now
			t.Fatal(err)
		}
		if _, err := s.PostMessage(ctx, room.ID, alice, fmt.Sprint("post ", i), ""); err != nil {
			t.Fatal(err)
		}
		if _, truncated, err := s.checkpointOnce(); err != nil || !truncated {
			t.Fatalf("round %d: truncated %v, %v", i, truncated, err)
		}
		if err := s.noticeOtherWriters(ctx); err != nil {
			t.Fatal(err)
		}
		if _, ok := s.cache.user(alice.ID); !ok {
			t.Fatalf("round %d: the store's own truncation flushed its cache", i)
		}
	}
	if n := told.Load(); n != 0 {
		t.Fatalf("the store's own truncations were reported as outside changes %d times", n)
	}
}
