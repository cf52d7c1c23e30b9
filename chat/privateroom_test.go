package chat

import (
	"testing"
	"time"
)

func TestKindsAndVisibility(t *testing.T) {
	for _, tc := range []struct {
		kind                  RoomKind
		private, conversation bool
	}{
		{KindRoom, false, false}, {KindPrivate, true, false}, {KindDirect, true, true}, {KindGroup, true, true},
	} {
		r := Room{Kind: tc.kind}
		if r.Private() != tc.private || r.Conversation() != tc.conversation {
			t.Errorf("kind %d: private %v, conversation %v", tc.kind, r.Private(), r.Conversation())
		}
	}
	for in, want := range map[string]RoomKind{"": KindRoom, "public": KindRoom, "private": KindPrivate} {
		if got, err := ParseVisibility(in); err != nil || got != want {
			t.Errorf("ParseVisibility(%q) = %d, %v", in, got, err)
		}
	}
	if _, err := ParseVisibility("secret"); CodeOf(err) != Invalid {
		t.Errorf("ParseVisibility(secret): %v", err)
	}
	if (Room{Kind: KindPrivate}).Visibility() != VisibilityPrivate || (Room{}).Visibility() != VisibilityPublic {
		t.Error("Visibility")
	}
	if (Site{AllPublic: true}).Allows(1, KindPrivate) {
		t.Error("an embedding site may show a private room")
	}
}

func TestWhoManagesARoom(t *testing.T) {
	site := User{ID: 1, Admin: true}
	creator, admin, member := User{ID: 2}, User{ID: 3}, User{ID: 4}
	room := Room{Kind: KindPrivate, CreatedBy: creator.ID}
	group := Room{Kind: KindGroup, CreatedBy: creator.ID}
	if !CanManage(site, room, false) || !CanManage(admin, room, true) || CanManage(member, room, false) || CanManage(site, group, true) {
		t.Error("CanManage")
	}
	if !CanAppoint(creator, room) || !CanAppoint(site, room) || CanAppoint(admin, room) || CanAppoint(creator, group) {
		t.Error("CanAppoint")
	}
	for _, tc := range []struct {
		name          string
		by            User
		byAdmin       bool
		target        User
		targetAdmin   bool
		room          Room
		want          Code
		wantPermitted bool
	}{
		{"admin removes member", admin, true, member, false, room, 0, true},
		{"admin removes admin", admin, true, User{ID: 5}, true, room, Forbidden, false},
		{"creator removes admin", creator, true, admin, true, room, 0, true},
		{"site admin removes admin", site, false, admin, true, room, 0, true},
		{"anyone removes the creator", site, false, creator, true, room, Forbidden, false},
		{"member removes member", member, false, User{ID: 5}, false, room, Forbidden, false},
		{"admin removes self", admin, true, admin, true, room, Invalid, false},
		{"group", creator, false, member, false, group, Forbidden, false},
	} {
		err := CheckRemove(tc.by, tc.byAdmin, tc.target, tc.targetAdmin, tc.room)
		if (err == nil) != tc.wantPermitted || (err != nil && CodeOf(err) != tc.want) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

func TestParseInviteLink(t *testing.T) {
	if d, n, err := ParseInviteLink("168", "1"); err != nil || d != 7*24*time.Hour || n != 1 {
		t.Errorf("week, once: %v %d %v", d, n, err)
	}
	if d, n, err := ParseInviteLink("1", "0"); err != nil || d != time.Hour || n != 0 {
		t.Errorf("hour, many: %v %d %v", d, n, err)
	}
	for _, bad := range [][2]string{{"2", "1"}, {"x", "1"}, {"-1", "0"}, {"24", "5"}} {
		if _, _, err := ParseInviteLink(bad[0], bad[1]); CodeOf(err) != Invalid {
			t.Errorf("%v: %v", bad, err)
		}
	}
	if (InviteLink{MaxUses: 1}).UsesLeft() != "1 person" || (InviteLink{}).UsesLeft() != "any number of people" || (InviteLink{MaxUses: 5, Uses: 2}).UsesLeft() != "3 people" {
		t.Error("UsesLeft")
	}
}

// No two rooms in one person's list show the same title.
func TestDisambiguate(t *testing.T) {
	rooms := []Room{
		{ID: 1, Kind: KindRoom, Name: "general"},
		{ID: 2, Kind: KindPrivate, Name: "General"},
		{ID: 3, Kind: KindPrivate, Name: "plans"},
		{ID: 4, Kind: KindPrivate, Name: "plans"},
		{ID: 5, Kind: KindDirect, Name: "ann, bob"},
		{ID: 6, Kind: KindGroup, Name: "ann, bob"},
		{ID: 7, Kind: KindGroup, Name: "ann, bob, cat", GroupName: "Team"},
		{ID: 8, Kind: KindGroup, Name: "ann, dan", GroupName: "team"},
		{ID: 9, Kind: KindGroup, Name: "ann, bob, cat"},
		{ID: 10, Kind: KindGroup, Name: "ann, bob, cat"},
		{ID: 11, Kind: KindGroup, Name: "ann, eve", GroupName: "bob"},
		{ID: 12, Kind: KindRoom, Name: "solo"},
	}
	Disambiguate(rooms, "ann")
	want := map[int64]string{
		1: "# general", 2: "# General (private)", 3: "# plans", 4: "# plans (2)",
		5: "bob", 6: "bob (group)", 7: "Team (bob, cat)", 8: "team (dan)",
		9: "bob, cat", 10: "bob, cat (2)", 11: "bob (eve)", 12: "# solo",
	}
	for _, r := range rooms {
		if got := r.Title("ann"); got != want[r.ID] {
			t.Errorf("room %d: %q, want %q", r.ID, got, want[r.ID])
		}
	}
	// A number never lands on a title someone chose.
	rooms = []Room{{ID: 1, Kind: KindRoom, Name: "x"}, {ID: 2, Kind: KindGroup, Name: "a, b", GroupName: "# x (2)"}, {ID: 3, Kind: KindRoom, Name: "X"}}
	Disambiguate(rooms, "a")
	if got := rooms[2].Title("a"); got != "# X (3)" {
		t.Errorf("numbered %q", got)
	}
}
