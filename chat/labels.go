package chat

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// Disambiguate sets the Tag of each of rooms, one person's list, so that no
// two show viewer the same Title (letter case aside). Where titles clash, a
// named group is told apart by its members, a group by "group" (its members
// may be just the other person of a direct conversation), a private room by
// "private"; whatever still clashes, or where that tells nothing apart, by a
// number in the order the rooms were made.
func Disambiguate(rooms []Room, viewer string) {
	for i := range rooms {
		rooms[i].Tag = ""
	}
	for _, group := range clashes(rooms, viewer) {
		for _, i := range group {
			rooms[i].Tag = kindTag(rooms[i], viewer)
		}
		if sameTags(rooms, group) {
			for _, i := range group {
				rooms[i].Tag = "" // the same tag on all would tell nothing
			}
		}
	}
	number(rooms, viewer)
}

// clashes groups the indexes of rooms whose titles clash, each group in
// the order the rooms were made.
func clashes(rooms []Room, viewer string) [][]int {
	byTitle := map[string][]int{}
	var titles []string
	for i, r := range rooms {
		k := strings.ToLower(r.Title(viewer))
		if byTitle[k] == nil {
			titles = append(titles, k)
		}
		byTitle[k] = append(byTitle[k], i)
	}
	var out [][]int
	for _, k := range titles {
		if g := byTitle[k]; len(g) > 1 {
			slices.SortFunc(g, func(a, b int) int { return cmp.Compare(rooms[a].ID, rooms[b].ID) })
			out = append(out, g)
		}
	}
	return out
}

func kindTag(r Room, viewer string) string {
	switch {
	case r.Conversation() && r.GroupName != "":
		return r.Others(viewer)
	case r.Kind == KindGroup:
		return "group"
	case r.Kind == KindPrivate:
		return "private"
	}
	return ""
}

func sameTags(rooms []Room, group []int) bool {
	for _, i := range group[1:] {
		if rooms[i].Tag != rooms[group[0]].Tag {
			return false
		}
	}
	return true
}

// number gives every room whose title still clashes, but the oldest, the
// lowest number that makes its title unique.
func number(rooms []Room, viewer string) {
	taken := map[string]bool{}
	for _, r := range rooms {
		taken[strings.ToLower(r.Title(viewer))] = true
	}
	for _, group := range clashes(rooms, viewer) {
		for _, i := range group[1:] {
			base := rooms[i].Tag
			for n := 2; ; n++ {
				rooms[i].Tag = joinTag(base, strconv.Itoa(n))
				if k := strings.ToLower(rooms[i].Title(viewer)); !taken[k] {
					taken[k] = true
					break
				}
			}
		}
	}
}

func joinTag(a, b string) string {
	if a == "" {
		return b
	}
	return a + ", " + b
}
