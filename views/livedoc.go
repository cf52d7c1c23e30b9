package views

import (
	"bytes"
	"context"
	"strconv"
)

// LiveRetry is how many seconds after a live log document has ended the
// browser loads it again (see LiveDocStart).
const LiveRetry = 3

// liveDocBody opens the body of a live log document: the page's
// stylesheet makes the body a column and .scroller a scrolling box pinned
// to its newest line (column-reverse), exactly as on the room's page, so
// the newest message shows without script.
const liveDocBody = `<body class="live-doc"><div class="scroller"><div>` +
	`<p class="muted live-hint">New messages show here as they arrive.</p>` +
	`<ol class="log" role="log" aria-live="polite" aria-label="New messages">`

// LiveDocStart is the beginning of a room's live log document, up to the
// open list that each message is appended to (the document never ends:
// chunks follow). With retry, its head asks the browser to load it again
// LiveRetry seconds after it ends: a meta refresh needs no script and waits
// for the document to have finished loading, so a stream cut off (a slow
// reader, a restart) comes back on its own. It comes back from the same
// ?after= on purpose: the frame starts empty again, so it must show again
// everything newer than the page around it.
func LiveDocStart(ctx context.Context, css string, retry bool) ([]byte, error) {
	refresh := 0
	if retry {
		refresh = LiveRetry
	}
	var b bytes.Buffer
	b.WriteString(`<!DOCTYPE html><html lang="en">`)
	if err := liveDocHead(css, refresh).Render(ctx, &b); err != nil {
		return nil, err
	}
	b.WriteString(liveDocBody)
	return b.Bytes(), nil
}

// LiveItem finds in a stream fragment the list item of a message event
// (MessageEvent), with its room and message id: markup that a page
// without script can append as it is, the same bytes every reader gets.
// ok is false for every other fragment (reactions, typing, presence).
// The item is escaped templ output, so no text in it can end the upsert
// element early: the first closing tag is the real one.
func LiveItem(data []byte) (room, id int64, item []byte, ok bool) {
	rest, ok := bytes.CutPrefix(data, []byte(`<hx-upsert hx-target="#log-`))
	if !ok {
		return 0, 0, nil, false
	}
	room, rest, ok = cutID(rest, `" sort>`)
	if !ok {
		return 0, 0, nil, false
	}
	end := bytes.Index(rest, []byte("</hx-upsert>"))
	if end < 0 {
		return 0, 0, nil, false
	}
	item = rest[:end]
	after, ok := bytes.CutPrefix(item, []byte(`<li id="msg-`))
	if !ok {
		return 0, 0, nil, false
	}
	id, _, ok = cutID(after, `"`)
	return room, id, item, ok
}

// cutID reads a positive decimal id from the start of b, which must follow
// with end; it returns what comes after end.
func cutID(b []byte, end string) (int64, []byte, bool) {
	digits, rest, ok := bytes.Cut(b, []byte(end))
	if !ok {
		return 0, nil, false
	}
	id, err := strconv.ParseInt(string(digits), 10, 64)
	return id, rest, err == nil && id > 0
}

func liveDocPath(room, after int64) string {
	return roomPath(room) + "/live?after=" + strconv.FormatInt(after, 10)
}

// liveStandIn is the frame's first document (see LiveFrame).
func liveStandIn(room, after int64) string {
	path := liveDocPath(room, after)
	return `<meta http-equiv="refresh" content="0;url=` + path + `"><a href="` + path + `">Show new messages</a>`
}
