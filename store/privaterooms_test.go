package store

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
)

// clock is a test clock that moves only when told.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func mustPrivate(t *testing.T, s *Store, by chat.User, name string) chat.Room {
	t.Helper()
	r, err := s.CreatePrivateRoom(context.Background(), by, name, "")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func wantCode(t *testing.T, what string, err error, code chat.Code) {
	t.Helper()
	if chat.CodeOf(err) != code || (code != chat.Internal && err == nil) {
		t.Fatalf("%s: %v (code %v), want %v", what, err, chat.CodeOf(err), code)
	}
}

// A private room is not listed, cannot be joined, posted to, left or
// managed by outsiders (site admins included): to them it does not exist.
func TestPrivateRoomIsInvisibleToOutsiders(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	root, alice, bob := mustUser(t, s, "root"), mustUser(t, s, "alice"), mustUser(t, s, "bob")
	room := mustPrivate(t, s, alice, "secret")
	if room.Kind != chat.KindPrivate || !room.Private() || room.Conversation() {
		t.Fatalf("room %+v", room)
	}
	for _, u := range []chat.User{root, bob} {
		joined, others, err := s.Rooms(ctx, u.ID)
		if err != nil || len(joined)+len(others) != 0 {
			t.Fatalf("%s sees %v %v (%v)", u.Name, joined, others, err)
		}
		wantCode(t, "join", s.Join(ctx, room.ID, u), chat.NotFound)
		wantCode(t, "leave", s.Leave(ctx, room.ID, u), chat.NotFound)
		wantCode(t, "post", second(s.PostMessage(ctx, room.ID, u, "hi", "")), chat.NotFound)
		wantCode(t, "remove", s.RemoveMember(ctx, room.ID, alice, u), chat.NotFound)
		wantCode(t, "add", second(s.AddMember(ctx, room.ID, u.Name, u)), chat.NotFound)
		wantCode(t, "settings", second(s.UpdateRoom(ctx, room.ID, u, chat.RoomSettings{Name: "x"})), chat.NotFound)
		wantCode(t, "link", second(s.CreateInviteLink(ctx, room.ID, u, time.Hour, 0)), chat.NotFound)
		wantCode(t, "links", second(s.InviteLinks(ctx, room.ID, u)), chat.NotFound)
	}
	joined, _, err := s.Rooms(ctx, alice.ID)
	if err != nil || len(joined) != 1 || joined[0].ID != room.ID {
		t.Fatalf("alice's rooms %+v %v", joined, err)
	}
	if (chat.Site{AllPublic: true}).Allows(room.ID, room.Kind) {
		t.Fatal("an embedding site may show a private room")
	}
}

// Private names are not unique: a public room's name conflicts only with
// public rooms, so creating one tells nobody a private room exists.
func TestPrivateRoomNamesDoNotLeak(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	alice, bob := mustUser(t, s, "alice"), mustUser(t, s, "bob")
	private := mustPrivate(t, s, alice, "plans")
	mustPrivate(t, s, bob, "plans")
	public := mustRoom(t, s, bob, "Plans")
	_, err := s.UpdateRoom(ctx, private.ID, alice, chat.RoomSettings{Name: "plans", Kind: chat.KindRoom})
	wantCode(t, "making it public under a public room's name", err, chat.Conflict)
	r, err := s.UpdateRoom(ctx, private.ID, alice, chat.RoomSettings{Name: "plans 2", Topic: "t", Kind: chat.KindRoom})
	if err != nil || r.Kind != chat.KindRoom || r.Name != "plans 2" {
		t.Fatalf("made public: %+v %v", r, err)
	}
	if _, err := s.UpdateRoom(ctx, public.ID, bob, chat.RoomSettings{Name: "Plans", Kind: chat.KindPrivate}); err != nil {
		t.Fatalf("making a room private: %v", err)
	}
	if got, _ := s.RoomName(ctx, public.ID); got.Kind != chat.KindPrivate {
		t.Fatalf("cached name not dropped: %+v", got)
	}
	if _, others, _ := s.Rooms(ctx, alice.ID); len(others) != 0 {
		t.Fatalf("alice is offered %+v", others)
	}
}

// The creator is a room admin and appoints others; room admins manage the
// room but cannot remove each other; a room never runs out of admins.
func TestRoomAdmins(t *testing.T) {
	// A clock a millisecond on at each write: who joined first must not
	// come down to user ids when two joins share a millisecond.
	var mu sync.Mutex
	clock := time.Unix(1_700_000_000, 0)
	s := openTest(t, Options{Now: func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		clock = clock.Add(time.Millisecond)
		return clock
	}})
	ctx := context.Background()
	root := mustUser(t, s, "root")
	alice, bob, carol, dan := mustUser(t, s, "alice"), mustUser(t, s, "bob"), mustUser(t, s, "carol"), mustUser(t, s, "dan")
	room := mustPrivate(t, s, alice, "team")
	for _, u := range []chat.User{bob, carol, dan, root} {
		if _, err := s.AddMember(ctx, room.ID, u.Name, alice); err != nil {
			t.Fatal(err)
		}
	}
	if ok, _ := s.IsRoomAdmin(ctx, room.ID, alice.ID); !ok {
		t.Fatal("the creator is not a room admin")
	}
	wantCode(t, "a member appoints", s.SetRoomAdmin(ctx, room.ID, carol, bob, true), chat.Forbidden)
	if err := s.SetRoomAdmin(ctx, room.ID, bob, alice, true); err != nil {
		t.Fatal(err)
	}
	if err := s.SetRoomAdmin(ctx, room.ID, carol, alice, true); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "a room admin appoints", s.SetRoomAdmin(ctx, room.ID, dan, bob, true), chat.Forbidden)
	wantCode(t, "demoting the creator", s.SetRoomAdmin(ctx, room.ID, alice, root, false), chat.Invalid)
	wantCode(t, "an admin removes an admin", s.RemoveMember(ctx, room.ID, carol, bob), chat.Forbidden)
	wantCode(t, "removing the creator", s.RemoveMember(ctx, room.ID, alice, root), chat.Forbidden)
	if err := s.RemoveMember(ctx, room.ID, dan, bob); err != nil {
		t.Fatalf("a room admin removes a member: %v", err)
	}
	if err := s.RemoveMember(ctx, room.ID, carol, alice); err != nil {
		t.Fatalf("the creator removes an admin: %v", err)
	}
	if err := s.SetRoomAdmin(ctx, room.ID, bob, root, false); err != nil {
		t.Fatalf("a site admin in the room revokes: %v", err)
	}
	members, _ := s.Members(ctx, room.ID)
	admins := map[string]bool{}
	for _, m := range members {
		admins[m.User.Name] = m.RoomAdmin
	}
	if !admins["alice"] || admins["bob"] || admins["root"] || len(admins) != 3 {
		t.Fatalf("admins %v", admins)
	}
	if err := s.Leave(ctx, room.ID, alice); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.IsRoomAdmin(ctx, room.ID, bob.ID); !ok {
		t.Fatal("after the last admin left, the longest-standing member did not become one")
	}
}

// Adding by username: a room's managers add anyone active; a group's
// members add people and its name follows; a direct conversation stays two.
func TestAddMember(t *testing.T) {
	var seen commits
	s := openTest(t, Options{OnCommit: seen.add})
	ctx := context.Background()
	alice, bob, carol, dan := mustUser(t, s, "alice"), mustUser(t, s, "bob"), mustUser(t, s, "carol"), mustUser(t, s, "dan")
	room := mustPrivate(t, s, alice, "team")
	seen.take()
	if _, err := s.AddMember(ctx, room.ID, "BOB", alice); err != nil {
		t.Fatal(err)
	}
	got := seen.take()
	if len(got) != 1 || got[0].Kind != chat.KindJoin || got[0].AuthorID != bob.ID || got[0].Body != "alice" || got[0].Members != 2 {
		t.Fatalf("added line %+v", got)
	}
	wantCode(t, "a member invites", second(s.AddMember(ctx, room.ID, "carol", bob)), chat.Forbidden)
	wantCode(t, "again", second(s.AddMember(ctx, room.ID, "bob", alice)), chat.Conflict)
	wantCode(t, "nobody", second(s.AddMember(ctx, room.ID, "zed", alice)), chat.NotFound)

	group, err := s.StartConversation(ctx, alice, []string{"bob", "carol"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddMember(ctx, group.ID, "dan", carol); err != nil {
		t.Fatalf("a group member adds: %v", err)
	}
	g, _ := s.Room(ctx, group.ID)
	if g.Name != "alice, bob, carol, dan" || g.Members != 4 {
		t.Fatalf("group after adding %+v", g)
	}
	if again, err := s.StartConversation(ctx, dan, []string{"alice", "bob", "carol"}); err != nil || again.ID != group.ID {
		t.Fatalf("the four's conversation is %+v, %v; want the group", again, err)
	}
	direct, _ := s.StartConversation(ctx, alice, []string{"dan"})
	wantCode(t, "adding to a direct conversation", second(s.AddMember(ctx, direct.ID, "bob", alice)), chat.Invalid)
	wantCode(t, "an outsider adds", second(s.AddMember(ctx, direct.ID, "bob", carol)), chat.NotFound)
}

// A group conversation's members name it; its title is then the name.
func TestNameConversation(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	alice, bob, carol := mustUser(t, s, "alice"), mustUser(t, s, "bob"), mustUser(t, s, "carol")
	group, _ := s.StartConversation(ctx, alice, []string{"bob", "carol"})
	direct, _ := s.StartConversation(ctx, alice, []string{"bob"})
	_ = s.Leave(ctx, group.ID, carol)
	wantCode(t, "a former member", s.NameConversation(ctx, group.ID, carol, "x"), chat.NotFound)
	wantCode(t, "a direct conversation", s.NameConversation(ctx, direct.ID, alice, "x"), chat.Invalid)
	if err := s.NameConversation(ctx, group.ID, bob, "Launch"); err != nil {
		t.Fatal(err)
	}
	r, _ := s.RoomName(ctx, group.ID)
	if r.Title("alice") != "Launch" {
		t.Fatalf("title %q", r.Title("alice"))
	}
	// alice and bob now have a direct conversation and a group of the two:
	// their sidebar must tell them apart.
	if err := s.NameConversation(ctx, group.ID, bob, ""); err != nil {
		t.Fatal(err)
	}
	joined, _, _ := s.Rooms(ctx, alice.ID)
	titles := map[string]bool{}
	for _, r := range joined {
		if titles[r.Title("alice")] {
			t.Fatalf("two conversations titled %q: %+v", r.Title("alice"), joined)
		}
		titles[r.Title("alice")] = true
	}
	if !titles["bob"] || !titles["bob (group)"] {
		t.Fatalf("titles %v", titles)
	}
}

func TestInviteLinks(t *testing.T) {
	clk := &clock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	s := openTest(t, Options{Now: clk.Now})
	ctx := context.Background()
	alice, bob, carol, dan := mustUser(t, s, "alice"), mustUser(t, s, "bob"), mustUser(t, s, "carol"), mustUser(t, s, "dan")
	room := mustPrivate(t, s, alice, "team")

	once, err := s.CreateInviteLink(ctx, room.ID, alice, time.Hour, 1)
	if err != nil {
		t.Fatal(err)
	}
	inv, err := s.InviteFor(ctx, once.Token, bob.ID)
	if err != nil || inv.Room.ID != room.ID || inv.Member || inv.Link.CreatedBy != "alice" || inv.Room.Members != 1 {
		t.Fatalf("invitation %+v %v", inv, err)
	}
	if r, err := s.JoinByInvite(ctx, once.Token, bob); err != nil || r.ID != room.ID {
		t.Fatalf("join: %+v %v", r, err)
	}
	wantCode(t, "a spent single-use link", second(s.JoinByInvite(ctx, once.Token, carol)), chat.NotFound)
	if inv, err := s.InviteFor(ctx, once.Token, carol.ID); chat.CodeOf(err) != chat.NotFound {
		t.Fatalf("a spent link still shows: %+v %v", inv, err)
	}
	if inv, err := s.InviteFor(ctx, once.Token, bob.ID); err != nil || !inv.Member || inv.Room.ID != room.ID {
		t.Fatalf("who spent it is simply in: %+v %v", inv, err)
	}
	wantCode(t, "a member makes a link", second(s.CreateInviteLink(ctx, room.ID, bob, time.Hour, 0)), chat.Forbidden)

	many, _ := s.CreateInviteLink(ctx, room.ID, alice, 24*time.Hour, 0)
	for _, u := range []chat.User{carol, dan} {
		if _, err := s.JoinByInvite(ctx, many.Token, u); err != nil {
			t.Fatalf("%s joins with a multi-use link: %v", u.Name, err)
		}
	}
	if _, err := s.JoinByInvite(ctx, many.Token, dan); err != nil {
		t.Fatalf("a member follows the link again: %v", err)
	}
	links, err := s.InviteLinks(ctx, room.ID, alice)
	if err != nil || len(links) != 1 || links[0].ID != many.ID || links[0].Uses != 2 || links[0].Token != "" {
		t.Fatalf("links %+v %v", links, err)
	}

	// Removed after the link was made: it does not let them back.
	if err := s.RemoveMember(ctx, room.ID, dan, alice); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "a removed member's old link", second(s.JoinByInvite(ctx, many.Token, dan)), chat.Forbidden)
	fresh, _ := s.CreateInviteLink(ctx, room.ID, alice, time.Hour, 1)
	if _, err := s.JoinByInvite(ctx, fresh.Token, dan); err != nil {
		t.Fatalf("a link made after the removal: %v", err)
	}

	wantCode(t, "a member revokes", s.RevokeInviteLink(ctx, room.ID, many.ID, bob), chat.Forbidden)
	if err := s.RevokeInviteLink(ctx, room.ID, many.ID, alice); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "a revoked link", second(s.InviteFor(ctx, many.Token, mustUser(t, s, "erin").ID)), chat.NotFound)

	later, _ := s.CreateInviteLink(ctx, room.ID, alice, time.Hour, 0)
	clk.add(time.Hour)
	wantCode(t, "an expired link", second(s.InviteFor(ctx, later.Token, mustUser(t, s, "gus").ID)), chat.NotFound)

	// A link dies with its maker's right to invite.
	if err := s.SetRoomAdmin(ctx, room.ID, bob, alice, true); err != nil {
		t.Fatal(err)
	}
	bobs, _ := s.CreateInviteLink(ctx, room.ID, bob, time.Hour, 0)
	if err := s.SetRoomAdmin(ctx, room.ID, bob, alice, false); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "a former admin's link", second(s.InviteFor(ctx, bobs.Token, mustUser(t, s, "fay").ID)), chat.NotFound)
	wantCode(t, "a made-up token", second(s.InviteFor(ctx, "nothing", bob.ID)), chat.NotFound)

	rows, err := s.rq.QueryContext(ctx, `SELECT token_hash FROM room_invites`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var stored []byte
		if err := rows.Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(stored, []byte(fresh.Token)) {
			t.Fatalf("a token is stored as it is: %q", stored)
		}
	}
	rows.Close()
	var hash []byte
	if err := s.rq.QueryRowContext(context.Background(), `SELECT token_hash FROM room_invites WHERE id = ?`, fresh.ID).Scan(&hash); err != nil || !bytes.Equal(hash, hashToken(fresh.Token)) {
		t.Fatalf("stored hash %x, %v", hash, err)
	}
}

// Removals lists the lines that took user out of rooms they are still out
// of: what their resuming stream must tell their pages.
func TestRemovalsForAResumingStream(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	alice, bob := mustUser(t, s, "alice"), mustUser(t, s, "bob")
	room := mustPrivate(t, s, alice, "team")
	other := mustRoom(t, s, alice, "open")
	_, _ = s.AddMember(ctx, room.ID, "bob", alice)
	_, _ = s.AddMember(ctx, other.ID, "bob", alice)
	before, _ := s.LatestID(ctx)
	_ = s.RemoveMember(ctx, room.ID, bob, alice)
	_ = s.RemoveMember(ctx, other.ID, bob, alice)
	got, err := s.Removals(ctx, bob.ID, before)
	if err != nil || len(got) != 2 || got[0].RoomID != room.ID || got[1].RoomID != other.ID || got[0].Body != "alice" {
		t.Fatalf("removals %+v %v", got, err)
	}
	if none, _ := s.Removals(ctx, alice.ID, before); len(none) != 0 {
		t.Fatalf("alice's removals %+v", none)
	}
	_ = s.Join(ctx, other.ID, bob)
	if got, _ := s.Removals(ctx, bob.ID, before); len(got) != 1 || got[0].RoomID != room.ID {
		t.Fatalf("back in a room, its removal still counts: %+v", got)
	}
	if got, _ := s.Removals(ctx, bob.ID, got[0].ID); len(got) != 0 {
		t.Fatalf("removals after the last: %+v", got)
	}
}
