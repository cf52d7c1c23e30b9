package xss

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/rtmessenger/rtmessenger/chat"
	"github.com/rtmessenger/rtmessenger/internal/attack"
	"github.com/rtmessenger/rtmessenger/internal/browsertest"
	"github.com/rtmessenger/rtmessenger/internal/e2e"
)

// Every payload also goes through the paths that change a message: as an
// edit (whose fragment replaces the message on every open page), and as a
// reply, whose quote shows the start of the (edited) original. Both must
// come out as text in another member's live page and in history.
func TestHostileTextThroughEditsAndReplies(t *testing.T) {
	browser := browsertest.Start(t)
	s := e2e.Start(t, "-post-rate", "0", "-stream-rate", "0")
	mallory, reader := e2e.OpenTab(t, browser, s), e2e.OpenTab(t, browser, s)
	browsertest.Guard(t, mallory.Ctx)
	browsertest.Guard(t, reader.Ctx)
	mallory.Signup("mallory")
	mallory.Do(chromedp.Navigate(s.URL+"/rooms"), chromedp.SetValue(chromedp.ID("room-name"), "changes"))
	mallory.Submit(`.create-room button`)
	room := mallory.Eval(`location.pathname`)
	reader.Signup("reader")
	reader.Do(chromedp.Navigate(s.URL + room))
	reader.Submit(`.join-invite button`)
	reader.WaitLive()
	mallory.WaitLive()
	mallory.Send("seed")
	mallory.WaitFor("the seed", `[...document.querySelectorAll('.log li.msg .body')].some(b => b.textContent === 'seed')`)
	seed := strings.TrimPrefix(mallory.Eval(`[...document.querySelectorAll('.log li.msg')].pop().id`), "msg-")

	var last string
	for _, p := range attack.XSS {
		clean, err := chat.CleanMessage(p)
		if err != nil {
			continue
		}
		last = clean
		payload, _ := json.Marshal(p)
		// Through the real endpoints, from mallory's page (same origin, her
		// cookie), one after another.
		mallory.Eval(`window.__sent = null; (async () => {
			const p = ` + string(payload) + `;
			const send = (url, fields) => fetch(url, {method: 'POST', headers: {'HX-Request': 'true'}, body: new URLSearchParams(fields)}).then(r => String(r.status));
			window.__sent = [await send('` + room + `/messages/` + seed + `/edit', {body: p}),
				await send('` + room + `/messages', {body: p, reply_to: '` + seed + `', client_id: crypto.randomUUID()})].join(' ');
		})(), 'sending'`)
		mallory.WaitFor("the edit and the reply", `window.__sent !== null`)
		if res := mallory.Eval(`window.__sent`); res != "200 200" {
			t.Fatalf("edit and reply with %q: %s", p, res)
		}
	}
	mallory.Send("sentinel after the changes")
	reader.WaitFor("the sentinel", `[...document.querySelectorAll('.log li.msg .body')].some(b => b.textContent === 'sentinel after the changes')`)
	check := func(where string, tb e2e.Tab) {
		t.Helper()
		if bad := tb.Eval(domIsClean); bad != "[]" {
			t.Errorf("%s: %s", where, bad)
		}
		if got := tb.Eval(`document.querySelector('#msg-` + seed + ` .body').textContent`); got != chat.MarkupText(chat.ParseMarkup(last)) {
			t.Errorf("%s: the edited message reads %q, want %q", where, got, chat.MarkupText(chat.ParseMarkup(last)))
		}
		if n := tb.Eval(`String(document.querySelectorAll('.log a.quote').length)`); n == "0" {
			t.Errorf("%s: no reply quotes", where)
		}
		browsertest.CheckGuard(t, tb.Ctx, where)
	}
	check("reader, live", reader)
	reader.Do(chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("composer")))
	check("reader, history", reader)
}
