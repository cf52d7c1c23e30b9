package main

import "testing"

// The chat mix sends one post in lobbyEvery to the lobby, by a member of
// it, and every other post to a small room by one of that room's members.
func TestMixTargetLobbyShare(t *testing.T) {
	e := &env{layout: layout{Lobby: -1}}
	for i := range roomCount * roomSize {
		e.accts = append(e.accts, &account{index: i})
	}
	for k := range roomCount {
		e.layout.Rooms = append(e.layout.Rooms, int64(k))
	}
	for _, every := range []int64{defaultLobbyEvery, 0, 2} {
		e.lobbyEvery = every
		lobby := 0
		const posts = 10000
		for i := range int64(posts) {
			a, room := e.mixTarget(i)
			if room == e.layout.Lobby {
				lobby++
				if a.index >= lobbySize {
					t.Fatalf("every %d: post %d is in the lobby by account %d, not a member", every, i, a.index)
				}
				continue
			}
			if a.index/roomSize != int(room) {
				t.Fatalf("every %d: post %d is in room %d by account %d, a member of room %d", every, i, room, a.index, a.index/roomSize)
			}
		}
		want := 0
		if every > 0 {
			want = posts / int(every)
		}
		if lobby != want {
			t.Errorf("every %d: %d of %d posts in the lobby, want %d", every, lobby, posts, want)
		}
	}
}
