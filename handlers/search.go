package handlers

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
	"github.com/rtmessenger/rtmessenger/views"
)

// SearchStore finds messages by their words and the history around one.
type SearchStore interface {
	// Search finds, in the rooms user is in now, a page of the messages
	// holding every word; a room user is not in is not found.
	Search(ctx context.Context, user int64, q chat.SearchQuery) ([]chat.SearchHit, bool, error)
	// Around is room's history around message id (which must be in it).
	Around(ctx context.Context, room, id int64, n int) (msgs []chat.Message, older, newer bool, err error)
}

// searchPage answers GET /search: the form, and with ?q= a page of hits.
func (h *Handler) searchPage(w http.ResponseWriter, r *http.Request, u chat.User) {
	p, err := h.page(r, "Search")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	in := r.URL.Query()
	v := views.SearchPage{Page: p, Rooms: map[int64]chat.Room{}, PageNo: 1,
		Q: in.Get("q"), Room: in.Get("room"), Author: in.Get("author"), Before: in.Get("before")}
	if v.Joined, _, err = h.store.Rooms(r.Context(), u.ID); err != nil {
		h.fail(w, r, err)
		return
	}
	for _, room := range v.Joined {
		v.Rooms[room.ID] = room
	}
	status := http.StatusOK
	if _, asked := in["q"]; asked {
		v.Asked = true
		q, err := searchQuery(v, in.Get("page"))
		if err == nil {
			v.PageNo = q.Page + 1
			v.Hits, v.More, err = h.search.Search(r.Context(), u.ID, q)
		}
		if err != nil {
			if status = statusOf(err); status == http.StatusInternalServerError || status == http.StatusNotFound {
				h.fail(w, r, err) // a room not theirs is not there at all
				return
			}
			v.Error = chat.ErrorText(err)
		}
	}
	h.render(w, r, status, views.SearchView(v))
}

// searchQuery reads the form; what is wrong in it is the user's to fix.
func searchQuery(v views.SearchPage, page string) (chat.SearchQuery, error) {
	var q chat.SearchQuery
	var err error
	if q.Words, err = chat.SearchWords(v.Q); err != nil {
		return q, err
	}
	if v.Room != "" {
		if q.Room, err = strconv.ParseInt(v.Room, 10, 64); err != nil || q.Room <= 0 {
			return q, chat.FieldErrorf("room", chat.Invalid, "Pick a room from the list.")
		}
	}
	if q.Author, err = chat.CleanSearchAuthor(v.Author); err != nil {
		return q, err
	}
	if v.Before != "" {
		if q.Before, err = time.Parse(time.DateOnly, v.Before); err != nil {
			return q, chat.FieldErrorf("before", chat.Invalid, "Give the date as YYYY-MM-DD.")
		}
	}
	if page != "" {
		n, err := strconv.Atoi(page)
		if err != nil || n < 1 || n > chat.MaxSearchPages {
			return q, chat.FieldErrorf("page", chat.Invalid, "Pages go from 1 to %d.", chat.MaxSearchPages)
		}
		q.Page = n - 1
	}
	return q, nil
}

// permalinkPage answers GET /rooms/{room}/messages/{id}: the room page,
// with its history around that message instead of the newest, for the
// room's members only. The link's #msg-{id} scrolls to it and marks it.
func (h *Handler) permalinkPage(w http.ResponseWriter, r *http.Request, u chat.User) {
	rv, err := h.loadRoomView(r, u)
	if err == nil && !rv.member {
		err = errNoMessage // a public room's outsiders see nothing of it either
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		h.fail(w, r, errNoMessage)
		return
	}
	v := views.RoomPage{Page: rv.page, Room: rv.room, Joined: rv.joined, Member: true, Focus: id}
	if v.Messages, v.More, v.Newer, err = h.search.Around(r.Context(), rv.room.ID, id, chat.PageSize/2); err != nil {
		h.fail(w, r, err)
		return
	}
	v.Composer = views.Composer{RoomID: rv.room.ID, Placeholder: composerHint(rv.room, u), Socket: v.Socket, ClientID: chat.NewClientID()}
	if err := h.fillHead(r.Context(), u, &v); err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, views.RoomView(v))
}
