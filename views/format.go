package views

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/rtmessenger/rtmessenger/chat"
)

func msgID(id int64) string     { return "msg-" + strconv.FormatInt(id, 10) }
func logID(room int64) string   { return "log-" + strconv.FormatInt(room, 10) }
func olderID(room int64) string { return "older-" + strconv.FormatInt(room, 10) }

func membersID(room int64) string { return "members-" + strconv.FormatInt(room, 10) }

func roomPath(room int64) string { return "/rooms/" + strconv.FormatInt(room, 10) }

func roomURL(room int64) templ.SafeURL { return templ.SafeURL(roomPath(room)) }

func composerAction(c Composer) templ.SafeURL {
	if c.Embed != nil {
		return templ.SafeURL("/embed" + roomPath(c.RoomID) + "/messages")
	}
	return roomAction(c.RoomID, "messages")
}

func roomAction(room int64, action string) templ.SafeURL {
	return templ.SafeURL(roomPath(room) + "/" + action)
}

func removeAction(room, user int64) templ.SafeURL {
	return templ.SafeURL(fmt.Sprintf("%s/members/%d/remove", roomPath(room), user))
}

func olderPath(room, before int64) string {
	return fmt.Sprintf("%s/messages?before=%d", roomPath(room), before)
}

// userID marks a signed-in page with its user, so that the tabs of one
// account share a stream and another account's never join in.
func userID(p Page) string {
	if p.User == nil {
		return ""
	}
	return strconv.FormatInt(p.User.ID, 10)
}

func streamPath(p Page) string { return "/events?" + streamQuery(p) }

func socketPath(p Page) string { return "/ws?" + streamQuery(p) }

// htmxConfig is the page's htmx settings: those of its one live
// transport, if any. A stream lives in one tab of the browser, which may
// be in the background: it must not pause there.
func htmxConfig(p Page) string {
	const base = `{"includeIndicatorCSS":false`
	switch {
	case p.User == nil:
		return base + `}`
	case p.Socket:
		return base + `,"ws":{"reconnectMaxDelay":10000,"pauseOnBackground":false}}`
	}
	return base + `,"sse":{"reconnectMaxDelay":10000,"pauseOnBackground":false}}`
}

// millis is d in whole milliseconds, as the page's script reads a time.
func millis(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }

func streamQuery(p Page) string {
	q := "after=" + strconv.FormatInt(p.StreamAfter, 10)
	if p.Watch > 0 {
		q += "&watch=" + strconv.FormatInt(p.Watch, 10) + "&from=" + strconv.Itoa(p.WatchFrom)
	}
	return q
}

// isoTime is the machine-readable time the page script localises, to the
// second: milliseconds would cost every message on the wire and show nowhere.
func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// clockTime is what readers without the script see: the same bytes go to
// every member, so it cannot be in each reader's zone.
func clockTime(t time.Time) string { return t.UTC().Format("15:04") + " UTC" }

// authorClass gives each author one of eight colours, stable across pages.
func authorClass(id int64) string { return "a" + strconv.FormatInt(id%8, 10) }

// siteSuffix names an embedded author's site in a system line.
func siteSuffix(m chat.Message) string {
	if m.AuthorSite == "" {
		return ""
	}
	return "(" + m.AuthorSite + ") "
}

func systemLine(m chat.Message) string {
	switch m.Kind {
	case chat.KindJoin:
		if m.Body != "" {
			return "was added by " + m.Body
		}
		return "joined the room"
	case chat.KindLeave:
		return "left the room"
	case chat.KindRemoved:
		return "was removed by " + m.Body
	}
	return ""
}

func members(n int) string {
	if n == 1 {
		return "1 member"
	}
	return strconv.Itoa(n) + " members"
}

// viewerName is the signed-in user's name, for titles that leave it out.
func viewerName(p Page) string {
	if p.User == nil {
		return ""
	}
	return p.User.Name
}

// countRooms counts the rooms, public or private, among rooms: what is
// not a conversation.
func countRooms(rooms []chat.Room) int {
	n := 0
	for _, r := range rooms {
		if !r.Conversation() {
			n++
		}
	}
	return n
}

func people(n int) string {
	if n == 1 {
		return "1 person"
	}
	return strconv.Itoa(n) + " people"
}

// RecipientsPerPage is how many recipients an announcement's page lists.
const RecipientsPerPage = 200

func announcementPath(id int64) string { return "/announcements/" + strconv.FormatInt(id, 10) }

func announcementURL(id int64) templ.SafeURL { return templ.SafeURL(announcementPath(id)) }

func recipientsPage(id int64, offset int) templ.SafeURL {
	return templ.SafeURL(announcementPath(id) + "?offset=" + strconv.Itoa(offset))
}

func countID(announcement int64, what string) string {
	return "ann-" + strconv.FormatInt(announcement, 10) + "-" + what
}

func recipientID(announcement, user int64) string {
	return "rcpt-" + strconv.FormatInt(announcement, 10) + "-" + strconv.FormatInt(user, 10)
}

// excerpt shortens text for a list: its first line, at most 80 characters.
func excerpt(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i] + " …"
	}
	if r := []rune(s); len(r) > 80 {
		s = string(r[:79]) + "…"
	}
	return s
}
