package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/rtmessenger/rtmessenger/chat"
)

// The room commands of `admin`: reading only.

func listRooms(ctx context.Context, a *adminRun, _ string) error {
	rooms, err := a.st.AllRooms(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tMEMBERS\tNAME")
	for _, r := range rooms {
		fmt.Fprintf(tw, "%d\t%s\t%d\t%s\n", r.ID, kindName(r.Kind), r.Members, r.Name)
	}
	fmt.Fprintf(tw, "(%d rooms; conversations are not listed)\n", len(rooms))
	return tw.Flush()
}

func kindName(k chat.RoomKind) string {
	if k == chat.KindPrivate {
		return "private"
	}
	return "public"
}

func listMembers(ctx context.Context, a *adminRun, which string) error {
	room, err := a.room(ctx, which)
	if err != nil {
		return err
	}
	members, err := a.st.Members(ctx, room.ID)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "%s (id %d, %s): %d members\n", room.Name, room.ID, kindName(room.Kind), len(members))
	fmt.Fprintln(tw, "USERNAME\tJOINED\tROLE")
	for _, m := range members {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", m.User.Name, m.Joined.UTC().Format("2006-01-02 15:04"), role(m))
	}
	return tw.Flush()
}

func role(m chat.Member) string {
	var r []string
	if m.User.Admin {
		r = append(r, "site admin")
	}
	if m.RoomAdmin {
		r = append(r, "room admin")
	}
	return strings.Join(r, ", ")
}

// room finds a public or private room by name, or by id when which is a
// number and no room has it as its name.
func (a *adminRun) room(ctx context.Context, which string) (chat.Room, error) {
	rooms, err := a.st.RoomsNamed(ctx, which)
	if err != nil {
		return chat.Room{}, err
	}
	if len(rooms) == 0 {
		if id, err := strconv.ParseInt(which, 10, 64); err == nil {
			if r, err := a.st.Room(ctx, id); err == nil && !r.Conversation() {
				return r, nil
			}
		}
		return chat.Room{}, fmt.Errorf("no room is named %q (rooms lists them)", which)
	}
	if len(rooms) > 1 {
		ids := make([]string, len(rooms))
		for i, r := range rooms {
			ids[i] = strconv.FormatInt(r.ID, 10)
		}
		return chat.Room{}, fmt.Errorf("%d rooms are named %q: give the id of the one you mean (%s)", len(rooms), which, strings.Join(ids, ", "))
	}
	return rooms[0], nil
}
