package chat

import "testing"

func TestConversationNamesAndKeys(t *testing.T) {
	if got := ConversationName([]string{"zoe", "Adam", "bob"}); got != "Adam, bob, zoe" {
		t.Errorf("name = %q", got)
	}
	if a, b := ConversationKey([]int64{9, 3, 12, 3}), ConversationKey([]int64{12, 9, 3}); a != "3:9:12" || a != b {
		t.Errorf("keys %q and %q, want both 3:9:12", a, b)
	}
	for _, tc := range []struct {
		room   Room
		viewer string
		want   string
	}{
		{Room{Kind: KindRoom, Name: "general"}, "ann", "# general"},
		{Room{Kind: KindDirect, Name: "ann, Bob"}, "bob", "ann"},
		{Room{Kind: KindDirect, Name: "ann, Bob"}, "ann", "Bob"},
		{Room{Kind: KindGroup, Name: "ann, bob, cat"}, "bob", "ann, cat"},
		{Room{Kind: KindGroup, Name: "ann"}, "ann", "Just you"},
		{Room{Kind: KindGroup, Name: "ann, bob"}, "", "ann, bob"},
		{Room{Kind: KindGroup, Name: "ann, bob", GroupName: "Launch"}, "ann", "Launch"},
		{Room{Kind: KindPrivate, Name: "plans", Tag: "private"}, "ann", "# plans (private)"},
	} {
		if got := tc.room.Title(tc.viewer); got != tc.want {
			t.Errorf("%+v seen by %q: %q, want %q", tc.room, tc.viewer, got, tc.want)
		}
	}
	if (Room{Kind: KindRoom}).Private() || !(Room{Kind: KindDirect}).Private() || !(Room{Kind: KindGroup}).Private() {
		t.Error("only public rooms are not private")
	}
}
