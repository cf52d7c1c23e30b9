package handlers

import (
	"context"
	"net/http"
	"strconv"

	"github.com/rtmessenger/rtmessenger/chat"
	"github.com/rtmessenger/rtmessenger/views"
)

// OpenRoomStore keeps the rooms anyone may join: creating, joining and
// leaving them.
type OpenRoomStore interface {
	CreateRoom(ctx context.Context, creator chat.User, name, topic string) (chat.Room, error)
	Join(ctx context.Context, room int64, user chat.User) error
	Leave(ctx context.Context, room int64, user chat.User) error
}

func (h *Handler) roomsPage(w http.ResponseWriter, r *http.Request, u chat.User) {
	var start views.ConversationForm
	if k, ok := h.keptPost(r, dmForm); ok { // a refused POST /dm
		start = views.ConversationForm{With: k.Fields["with"], Error: k.Error}
	}
	h.showRoomsWith(w, r, u, http.StatusOK, views.RoomForm{}, start)
}

func (h *Handler) showRooms(w http.ResponseWriter, r *http.Request, u chat.User, status int, form views.RoomForm) {
	h.showRoomsWith(w, r, u, status, form, views.ConversationForm{})
}

func (h *Handler) showRoomsWith(w http.ResponseWriter, r *http.Request, u chat.User, status int, form views.RoomForm, start views.ConversationForm) {
	p, err := h.page(r, "Rooms")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	joined, others, err := h.store.Rooms(r.Context(), u.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, status, views.RoomsView(views.RoomsPage{Page: p, Joined: joined, Others: others, Create: form, Start: start}))
}

func (h *Handler) createRoom(w http.ResponseWriter, r *http.Request, u chat.User) {
	if err := parseForm(w, r); err != nil {
		h.fail(w, r, err)
		return
	}
	form := views.RoomForm{Name: r.PostForm.Get("name"), Topic: r.PostForm.Get("topic"), Visibility: r.PostForm.Get("visibility")}
	name, err := chat.CleanRoomName(form.Name)
	var topic string
	if err == nil {
		topic, err = chat.CleanTopic(form.Topic)
	}
	var kind chat.RoomKind
	if err == nil {
		kind, err = chat.ParseVisibility(form.Visibility)
	}
	var room chat.Room
	switch {
	case err == nil && kind == chat.KindPrivate:
		room, err = h.rooms.CreatePrivateRoom(r.Context(), u, name, topic)
	case err == nil:
		room, err = h.openRooms.CreateRoom(r.Context(), u, name, topic)
	}
	if err != nil {
		if statusOf(err) == http.StatusInternalServerError {
			h.fail(w, r, err)
			return
		}
		form.Error = chat.ErrorText(err)
		h.showRooms(w, r, u, statusOf(err), form)
		return
	}
	http.Redirect(w, r, roomPath(room.ID), http.StatusSeeOther)
}

func (h *Handler) roomPage(w http.ResponseWriter, r *http.Request, u chat.User) {
	var c views.Composer
	if id, err := roomParam(r); err == nil {
		if k, ok := h.keptPost(r, composerForm(id)); ok { // a refused no-script post
			c = views.Composer{Body: k.Fields["body"], ClientID: k.Fields["client_id"], Error: k.Error}
			if reply := replyID(k.Fields["reply_to"]); reply > 0 {
				c.ReplyTo = &chat.Quote{ID: reply}
			}
		}
	}
	h.showRoom(w, r, u, http.StatusOK, c)
}

// showRoom renders a room; composer carries what the user typed and any
// error when a no-script post failed.
func (h *Handler) showRoom(w http.ResponseWriter, r *http.Request, u chat.User, status int, composer views.Composer) {
	rv, err := h.loadRoomView(r, u)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	room := rv.room
	v := views.RoomPage{Page: rv.page, Room: room, Joined: rv.joined, Member: rv.member}
	if v.Member {
		v.Messages, v.More, err = h.store.History(r.Context(), room.ID, 0, chat.PageSize)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		h.openRoom(r.Context(), u, &v) // read up to here, announcement copies included
		composer.RoomID, composer.Placeholder, composer.Socket = room.ID, composerHint(room, u), v.Socket
		if composer.ReplyTo == nil {
			composer.ReplyTo = h.replyQuote(r.Context(), u, room.ID, r.URL.Query().Get("reply"))
		} else {
			composer.ReplyTo = h.fullQuote(r.Context(), u, room.ID, composer.ReplyTo)
		}
		if composer.ClientID == "" {
			composer.ClientID = chat.NewClientID()
		}
		v.Composer = composer
	}
	if err := h.fillHead(r.Context(), u, &v); err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, status, views.RoomView(v))
}

func (h *Handler) joinRoom(w http.ResponseWriter, r *http.Request, u chat.User) {
	id, err := roomParam(r)
	if err == nil {
		err = h.openRooms.Join(r.Context(), id, u)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, roomPath(id), http.StatusSeeOther)
}

func (h *Handler) leaveRoom(w http.ResponseWriter, r *http.Request, u chat.User) {
	id, err := roomParam(r)
	if err == nil {
		err = h.openRooms.Leave(r.Context(), id, u)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/rooms", http.StatusSeeOther)
}

func roomPath(id int64) string { return "/rooms/" + strconv.FormatInt(id, 10) }

// roomView is what every page about one room needs: the page frame, the
// room, the user's rooms for the sidebar, and whether they are a member.
type roomView struct {
	page   views.Page
	room   chat.Room
	joined []chat.Room
	member bool
}

func (h *Handler) loadRoomView(r *http.Request, u chat.User) (roomView, error) {
	var rv roomView
	id, err := roomParam(r)
	if err != nil {
		return rv, err
	}
	if rv.page, err = h.page(r, ""); err != nil {
		return rv, err
	}
	if rv.room, err = h.store.Room(r.Context(), id); err != nil {
		return rv, err
	}
	if rv.joined, _, err = h.store.Rooms(r.Context(), u.ID); err != nil {
		return rv, err
	}
	rv.member = containsRoom(rv.joined, id)
	if rv.room.Private() && !rv.member {
		return rv, errNoRoom // outsiders do not learn a private room or conversation exists
	}
	rv.room.Tag = tagOf(rv.joined, id) // titled as the sidebar titles it
	rv.page.Title = rv.room.Title(u.Name)
	return rv, nil
}
