package handlers

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
	"github.com/rtmessenger/rtmessenger/views"
)

// RoomStore is the storage behind private rooms, room admins, invitations
// and changes to conversations. Every method that acts for someone checks,
// in its own transaction, that they may.
type RoomStore interface {
	CreatePrivateRoom(ctx context.Context, creator chat.User, name, topic string) (chat.Room, error)
	IsRoomAdmin(ctx context.Context, room, user int64) (bool, error)
	UpdateRoom(ctx context.Context, room int64, by chat.User, set chat.RoomSettings) (chat.Room, error)
	NameConversation(ctx context.Context, room int64, by chat.User, name string) error
	AddMember(ctx context.Context, room int64, username string, by chat.User) (chat.User, error)
	SetRoomAdmin(ctx context.Context, room int64, member, by chat.User, admin bool) error
	CreateInviteLink(ctx context.Context, room int64, by chat.User, lifetime time.Duration, maxUses int) (chat.InviteLink, error)
	InviteLinks(ctx context.Context, room int64, by chat.User) ([]chat.InviteLink, error)
	RevokeInviteLink(ctx context.Context, room, link int64, by chat.User) error
	InviteFor(ctx context.Context, token string, user int64) (chat.Invitation, error)
	JoinByInvite(ctx context.Context, token string, user chat.User) (chat.Room, error)
	// Removals are the lines that removed user from rooms they are still
	// out of, newer than after: a resuming stream tells the pages.
	Removals(ctx context.Context, user, after int64) ([]chat.Message, error)
}

// settingsPage shows a room's settings to its managers, a group
// conversation's to its members.
func (h *Handler) settingsPage(w http.ResponseWriter, r *http.Request, u chat.User) {
	id, _ := roomParam(r) // showSettings refuses a bad one
	h.showSettings(w, r, u, http.StatusOK, func(v *views.SettingsPage) {
		v.Saved = r.URL.Query().Get("saved") != ""
		v.Add.Added = r.URL.Query().Get("added")
		// Refused no-script posts of the forms on this page that post
		// elsewhere (settingsRefused).
		if k, ok := h.keptPost(r, addForm(id)); ok {
			v.Add = views.AddForm{Username: k.Fields["username"], Error: k.Error}
		}
		if k, ok := h.keptPost(r, linkForm(id)); ok {
			v.LinkError = k.Error
		}
		var link views.FreshLink
		if h.freshValue(r, linkForm(id), &link) {
			v.NewLink = &link
		}
	})
}

// showSettings renders the settings page, after change fills in what a
// form brought (typed text, an error, a fresh link).
func (h *Handler) showSettings(w http.ResponseWriter, r *http.Request, u chat.User, status int, change func(*views.SettingsPage)) {
	rv, err := h.settingsView(r, u)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v := views.SettingsPage{Page: rv.page, Room: rv.room, Joined: rv.joined,
		Form: views.SettingsForm{Name: rv.room.Name, Topic: rv.room.Topic, Visibility: rv.room.Visibility()}}
	if rv.room.Conversation() {
		v.Form.Name = rv.room.GroupName
	} else if v.Links, err = h.rooms.InviteLinks(r.Context(), rv.room.ID, u); err != nil {
		h.fail(w, r, err)
		return
	}
	if change != nil {
		change(&v)
	}
	h.render(w, r, status, views.SettingsView(v))
}

// settingsView loads a room for its settings page, refusing those who may
// not see them: a direct conversation has none.
func (h *Handler) settingsView(r *http.Request, u chat.User) (roomView, error) {
	rv, err := h.loadRoomView(r, u)
	if err != nil {
		return rv, err
	}
	if rv.room.Kind == chat.KindDirect {
		return rv, chat.Errorf(chat.NotFound, "A direct conversation has no settings.")
	}
	if !rv.room.Conversation() {
		admin, err := h.rooms.IsRoomAdmin(r.Context(), rv.room.ID, u.ID)
		if err != nil {
			return rv, err
		}
		if !chat.CanManage(u, rv.room, admin) {
			return rv, chat.Errorf(chat.Forbidden, "Only the room's admins can change its settings.")
		}
	}
	rv.page.Title = "Settings of " + rv.room.Title(u.Name)
	return rv, nil
}

// updateSettings saves a room's name, topic and visibility, or a group
// conversation's name.
func (h *Handler) updateSettings(w http.ResponseWriter, r *http.Request, u chat.User) {
	id, err := roomParam(r)
	if err == nil {
		err = parseForm(w, r)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	form := views.SettingsForm{Name: r.PostForm.Get("name"), Topic: r.PostForm.Get("topic"), Visibility: r.PostForm.Get("visibility")}
	if err := h.saveSettings(r.Context(), id, u, form); err != nil {
		h.formFailed(w, r, u, err, func(v *views.SettingsPage) {
			form.Error = chat.ErrorText(err)
			v.Form = form
		})
		return
	}
	http.Redirect(w, r, roomPath(id)+"/settings?saved=1", http.StatusSeeOther)
}

func (h *Handler) saveSettings(ctx context.Context, id int64, u chat.User, form views.SettingsForm) error {
	room, err := h.visibleRoom(ctx, id, u)
	if err != nil {
		return err
	}
	if room.Conversation() {
		name, err := chat.CleanGroupName(form.Name)
		if err != nil {
			return err
		}
		return h.rooms.NameConversation(ctx, id, u, name)
	}
	var set chat.RoomSettings
	if set.Name, err = chat.CleanRoomName(form.Name); err != nil {
		return err
	}
	if set.Topic, err = chat.CleanTopic(form.Topic); err != nil {
		return err
	}
	if set.Kind, err = chat.ParseVisibility(form.Visibility); err != nil {
		return err
	}
	if _, err = h.rooms.UpdateRoom(ctx, id, u, set); err == nil && set.Kind != room.Kind {
		h.recheckStreams() // a room made private: its widget guests go now
	}
	return err
}

// formFailed answers a settings form that was refused: the page again
// with what was typed and why, or the error alone when it is not about the
// form (the room is not there for u, u may not change it, a failure).
func (h *Handler) formFailed(w http.ResponseWriter, r *http.Request, u chat.User, err error, change func(*views.SettingsPage)) {
	status := statusOf(err)
	if chat.FieldOf(err) == "" && (status == http.StatusInternalServerError || status == http.StatusNotFound || status == http.StatusForbidden) {
		h.fail(w, r, err)
		return
	}
	h.showSettings(w, r, u, status, change)
}

// settingsRefused answers a refused form of the settings page that posts
// to an address of its own (adding a member, making an invite link): the
// settings page shows it again with why (keepRefused), so the address bar
// never rests on the post. A refusal that is not about the form is
// answered as formFailed answers it.
func (h *Handler) settingsRefused(w http.ResponseWriter, r *http.Request, room int64, form string, fields map[string]string, err error) {
	status := statusOf(err)
	if chat.FieldOf(err) == "" && (status == http.StatusInternalServerError || status == http.StatusNotFound || status == http.StatusForbidden) {
		h.fail(w, r, err)
		return
	}
	h.keepRefused(w, r, form, fields, err, roomPath(room)+"/settings")
}

// addForm and linkForm name a room's add-a-member and invite-link forms
// among kept forms.
func addForm(room int64) string  { return "add:" + strconv.FormatInt(room, 10) }
func linkForm(room int64) string { return "link:" + strconv.FormatInt(room, 10) }

// addMember invites someone by username: into a room (its managers), a
// group conversation (its members). They are in at once. Added to a direct
// conversation, they make it a group: the one with all three is opened.
func (h *Handler) addMember(w http.ResponseWriter, r *http.Request, u chat.User) {
	id, err := roomParam(r)
	if err == nil {
		err = parseForm(w, r)
	}
	var room chat.Room
	if err == nil {
		room, err = h.visibleRoom(r.Context(), id, u)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	username := r.PostForm.Get("username")
	if room.Kind == chat.KindDirect {
		h.widenDirect(w, r, u, room, username)
		return
	}
	added, err := h.rooms.AddMember(r.Context(), id, username, u)
	if err != nil {
		h.settingsRefused(w, r, id, addForm(id), map[string]string{"username": username}, err)
		return
	}
	h.forgetKept(r, addForm(id))
	http.Redirect(w, r, roomPath(id)+"/settings?added="+added.Name, http.StatusSeeOther)
}

// widenDirect opens the group conversation of a direct one's two people
// and one more: a direct conversation always stays between its two.
func (h *Handler) widenDirect(w http.ResponseWriter, r *http.Request, u chat.User, direct chat.Room, username string) {
	room, err := h.openConversation(w, r, u, append(splitNames(direct.Name), username))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, roomPath(room.ID), http.StatusSeeOther)
}

// visibleRoom reads a room's kind and name, if u may see it: before a
// form is checked, so that what is wrong with it tells nothing about a
// room u cannot see. (The store checks again as it writes.)
func (h *Handler) visibleRoom(ctx context.Context, id int64, u chat.User) (chat.Room, error) {
	room, err := h.store.RoomName(ctx, id)
	if err != nil || !room.Private() {
		return room, err
	}
	ok, err := h.store.IsMember(ctx, id, u.ID)
	if err == nil && !ok {
		err = errNoRoom
	}
	return room, err
}

// setAdmin makes a member a room admin (true) or no longer one.
func (h *Handler) setAdmin(admin bool) func(http.ResponseWriter, *http.Request, chat.User) {
	return func(w http.ResponseWriter, r *http.Request, u chat.User) {
		room, err := roomParam(r)
		var member chat.User
		if err == nil {
			member, err = h.userParam(r)
		}
		if err == nil {
			err = h.rooms.SetRoomAdmin(r.Context(), room, member, u, admin)
		}
		if err != nil {
			h.fail(w, r, err)
			return
		}
		http.Redirect(w, r, roomPath(room)+"/members", http.StatusSeeOther)
	}
}

// userParam is the account {user} names by id.
func (h *Handler) userParam(r *http.Request) (chat.User, error) {
	id, err := strconv.ParseInt(r.PathValue("user"), 10, 64)
	if err != nil {
		return chat.User{}, chat.Errorf(chat.NotFound, "No such user.")
	}
	return h.store.UserByID(r.Context(), id)
}

// fillHead completes a room page's header: the other person of a direct
// conversation with whether they are online, and the settings link for
// those who may change them.
func (h *Handler) fillHead(ctx context.Context, u chat.User, v *views.RoomPage) error {
	switch {
	case !v.Member:
	case v.Room.Kind == chat.KindDirect:
		other, err := h.people.Person(ctx, v.Room.Others(u.Name))
		if chat.CodeOf(err) == chat.NotFound {
			return nil // not in the directory: the plain header will do
		}
		if err != nil {
			return err
		}
		v.Direct, v.DirectOnline = &other, h.streams.Online(other.ID)
	case v.Room.Conversation():
		v.CanSettings = true
	default:
		admin, err := h.rooms.IsRoomAdmin(ctx, v.Room.ID, u.ID)
		if err != nil {
			return err
		}
		v.CanSettings = chat.CanManage(u, v.Room, admin)
	}
	return nil
}

// tagOf is the Tag the room with id has among rooms.
func tagOf(rooms []chat.Room, id int64) string {
	for _, r := range rooms {
		if r.ID == id {
			return r.Tag
		}
	}
	return ""
}
