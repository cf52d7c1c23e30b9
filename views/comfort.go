package views

import (
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
)

// groupGap is how long after an author's message their next one still
// continues it under the same name.
const groupGap = 5 * time.Minute

// itemLook is how a full page shows one message to its reader. The zero
// value is a stream fragment's: the same bytes for every member, in UTC,
// which the page's script turns into each reader's own.
type itemLook struct {
	zone *time.Location // the reader's; nil in fragments
	cont bool           // continues the previous message's group
}

// logEntry is one message of a page's log and the lines before it.
type logEntry struct {
	m       chat.Message
	look    itemLook
	day     string // the day separator's date (2006-01-02), or ""
	newLine bool   // the "New messages" line
}

// logEntries lays out msgs for a reader in zone: a day separator before
// the first message of each day (in zone), the "New messages" line before
// newFrom, and each message marked when it continues its author's group.
// The page's script applies the same rules to messages that arrive live.
func logEntries(msgs []chat.Message, newFrom int64, zone *time.Location) []logEntry {
	if zone == nil {
		zone = time.UTC
	}
	out := make([]logEntry, len(msgs))
	for i, m := range msgs {
		e := logEntry{m: m, look: itemLook{zone: zone}, newLine: m.ID == newFrom}
		if day := dayKey(m.Sent, zone); i == 0 || day != dayKey(msgs[i-1].Sent, zone) {
			e.day = day
		}
		e.look.cont = i > 0 && e.day == "" && !e.newLine && continues(msgs[i-1], m)
		out[i] = e
	}
	return out
}

// continues reports whether m goes under prev's name: the same author's
// text, soon after.
func continues(prev, m chat.Message) bool {
	gap := m.Sent.Sub(prev.Sent)
	return prev.Kind == chat.KindText && m.Kind == chat.KindText && prev.AuthorID == m.AuthorID &&
		gap >= 0 && gap <= groupGap
}

// readerZone is the time zone a page shows times in: the reader's
// profile's, else UTC (and the page's script uses the browser's).
func readerZone(p Page) *time.Location {
	if p.User == nil || p.User.Zone == "" {
		return time.UTC
	}
	if loc, err := time.LoadLocation(p.User.Zone); err == nil {
		return loc
	}
	return time.UTC
}

// pageZone is the zone the page's script shows times in, when the reader
// chose one.
func pageZone(p Page) string {
	if p.User == nil {
		return ""
	}
	return p.User.Zone
}

func dayKey(t time.Time, zone *time.Location) string { return t.In(zone).Format("2006-01-02") }

// dayLabel names a day separator's date for readers without the script.
func dayLabel(day string) string {
	t, err := time.Parse("2006-01-02", day)
	if err != nil {
		return day
	}
	return t.Format("Monday, 2 January 2006")
}

// shownTime is a message's clock time for the reader: in their zone on
// full pages, in UTC with the zone named where the zone is UTC (fragments,
// and readers who chose none).
func shownTime(t time.Time, look itemLook) string {
	if look.zone == nil || look.zone == time.UTC {
		return clockTime(t)
	}
	return t.In(look.zone).Format("15:04")
}

// fullTime is the date and time in the reader's zone, for the title.
func fullTime(t time.Time, zone *time.Location) string {
	return t.In(zone).Format("Monday, 2 January 2006 15:04 MST")
}
