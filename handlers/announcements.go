package handlers

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/rtmessenger/rtmessenger/chat"
	"github.com/rtmessenger/rtmessenger/views"
)

// AnnouncementStore keeps announcements and who got them.
type AnnouncementStore interface {
	Announce(ctx context.Context, sender chat.User, to chat.AnnouncementTargets, body string) (chat.Announcement, error)
	Announcement(ctx context.Context, id int64, viewer chat.User) (chat.Announcement, error)
	Announcements(ctx context.Context, sender chat.User, limit int) ([]chat.Announcement, error)
	Recipients(ctx context.Context, announcement int64, offset, limit int) ([]chat.Recipient, error)
	// MarkDeliveredTo counts as delivered every copy waiting for user,
	// whose page now shows them.
	MarkDeliveredTo(ctx context.Context, user int64) error
}

// sentListed is how many of their announcements a sender sees listed.
const sentListed = 50

func (h *Handler) announcePage(w http.ResponseWriter, r *http.Request, u chat.User) {
	h.showAnnounce(w, r, u, http.StatusOK, views.AnnounceForm{})
}

func (h *Handler) showAnnounce(w http.ResponseWriter, r *http.Request, u chat.User, status int, form views.AnnounceForm) {
	p, err := h.page(r, "Announcements")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	joined, _, err := h.store.Rooms(r.Context(), u.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	mine, err := h.announcements.Announcements(r.Context(), u, sentListed)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, status, views.AnnounceView(views.AnnouncePage{Page: p, Joined: joined, Rooms: withoutDirect(joined), Form: form, Mine: mine}))
}

// withoutDirect leaves out direct conversations: announcing to "everyone
// in" one is writing to the one other person.
func withoutDirect(rooms []chat.Room) []chat.Room {
	var out []chat.Room
	for _, r := range rooms {
		if r.Kind != chat.KindDirect {
			out = append(out, r)
		}
	}
	return out
}

// announce sends one announcement: POST /announcements with body, to
// (usernames, separated by commas or repeated), room (ids, repeated) and
// everyone. Recipients are resolved on the server, never taken on trust.
func (h *Handler) announce(w http.ResponseWriter, r *http.Request, u chat.User) {
	if err := parseForm(w, r); err != nil {
		h.fail(w, r, err)
		return
	}
	form := views.AnnounceForm{
		Body:     r.PostForm.Get("body"),
		To:       strings.Join(r.PostForm["to"], ", "),
		Everyone: r.PostForm.Get("everyone") != "",
	}
	a, err := h.sendAnnouncement(r.Context(), w, u, &form, r.PostForm["room"])
	if err != nil {
		if statusOf(err) == http.StatusInternalServerError {
			h.fail(w, r, err)
			return
		}
		form.Error, form.Field = chat.ErrorText(err), chat.FieldOf(err)
		h.showAnnounce(w, r, u, statusOf(err), form)
		return
	}
	http.Redirect(w, r, announcementPath(a.ID), http.StatusSeeOther)
}

func (h *Handler) sendAnnouncement(ctx context.Context, w http.ResponseWriter, u chat.User, form *views.AnnounceForm, rooms []string) (chat.Announcement, error) {
	to := chat.AnnouncementTargets{Usernames: splitNames(form.To), Everyone: form.Everyone}
	for _, v := range rooms {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return chat.Announcement{}, chat.FieldErrorf("room", chat.Invalid, "Rooms are chosen by id.")
		}
		to.Rooms = append(to.Rooms, id)
		form.Rooms = append(form.Rooms, id)
	}
	body, err := chat.CleanMessage(form.Body)
	if err != nil {
		return chat.Announcement{}, err
	}
	if ok, wait := h.limits.Announcements.Allow(strconv.FormatInt(u.ID, 10)); !ok {
		return chat.Announcement{}, tooMany(w, wait, "You are sending announcements too often.")
	}
	return h.announcements.Announce(ctx, u, to, body)
}

// splitNames reads usernames separated by commas, semicolons or spaces.
func splitNames(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\n' || r == '\t' || r == '\r' })
}

// announcementPage is an announcement's live status, for its sender.
func (h *Handler) announcementPage(w http.ResponseWriter, r *http.Request, u chat.User) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		h.fail(w, r, chat.Errorf(chat.NotFound, "No such announcement."))
		return
	}
	offset, _ := strconv.Atoi(r.URL.Query().Get("offset"))
	offset = max(0, offset)
	p, err := h.page(r, "Announcement")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	a, err := h.announcements.Announcement(r.Context(), id, u)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	recipients, err := h.announcements.Recipients(r.Context(), id, offset, views.RecipientsPerPage+1)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	joined, _, err := h.store.Rooms(r.Context(), u.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p.Watch, p.WatchFrom = a.ID, offset
	v := views.AnnouncementPage{Page: p, Joined: joined, Announcement: a, Recipients: recipients, Offset: offset}
	if len(recipients) > views.RecipientsPerPage {
		v.Recipients, v.More = recipients[:views.RecipientsPerPage], true
	}
	h.render(w, r, http.StatusOK, views.AnnouncementView(v))
}

func announcementPath(id int64) string { return "/announcements/" + strconv.FormatInt(id, 10) }

// renderReceipt renders the stream event that updates a status page.
func renderReceipt(ctx context.Context, r chat.Receipt) ([]byte, error) {
	var buf bytes.Buffer
	if err := views.ReceiptEvent(r).Render(ctx, &buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// watched reads the status page a stream serves, if any (?watch=&from=).
func watched(r *http.Request) (id int64, from int) {
	q := r.URL.Query()
	id, _ = strconv.ParseInt(q.Get("watch"), 10, 64)
	from, _ = strconv.Atoi(q.Get("from"))
	return max(0, id), max(0, from)
}

// sendStatus sends a status page the announcement's current status: its
// counts and the rows it shows. Only the sender gets it.
func (h *Handler) sendStatus(ctx context.Context, u chat.User, id int64, from int, eventID int64, send func(int64, string, []byte) error) error {
	a, err := h.announcements.Announcement(ctx, id, u)
	if chat.CodeOf(err) == chat.NotFound || chat.CodeOf(err) == chat.Forbidden {
		return nil
	}
	if err != nil {
		return err
	}
	status := a.Receipt
	if status.Changed, err = h.announcements.Recipients(ctx, id, from, views.RecipientsPerPage); err != nil {
		return err
	}
	data, err := renderReceipt(ctx, status)
	if err != nil {
		return err
	}
	return send(eventID, "", data)
}
