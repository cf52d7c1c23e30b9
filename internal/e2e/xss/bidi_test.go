package xss

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/rtmessenger/rtmessenger/chat"
	"github.com/rtmessenger/rtmessenger/internal/browsertest"
	"github.com/rtmessenger/rtmessenger/internal/e2e"
	"github.com/rtmessenger/rtmessenger/store"
)

// layout is JavaScript that reports, for every message in the log, how its
// body isolates its text and where its author's name and time sit. A
// message grouped under the one before (.cont) hides its name line: it is
// ungrouped first, so every name line can be measured.
const layout = `JSON.stringify([...document.querySelectorAll('ol.log li.msg:not(.system)')].map(li => {
  li.classList.remove('cont');
  const b = li.querySelector('.body'), a = li.querySelector('.author'), t = li.querySelector('time');
  const l = li.getBoundingClientRect(), ar = a.getBoundingClientRect(), tr = t.getBoundingClientRect();
  return {text: b.textContent, bidi: getComputedStyle(b).unicodeBidi, dir: getComputedStyle(b).direction,
    author: Math.round(ar.left - l.left), gap: Math.round(tr.left - ar.right), rise: Math.round(tr.top - ar.top)};
}))`

type shown struct {
	Text, Bidi, Dir   string
	Author, Gap, Rise int
	PlainDiv          string
}

// A message may hold bidi override characters, and they stay in its text,
// but its body is isolated: the author's name and the time sit where they
// sit for a plain message, in the live stream and in the history page. A
// display name or room name with one is refused with the reason, and the
// typed text is kept in the form.
func TestBidiOverridesCannotSpoofText(t *testing.T) {
	browser := browsertest.Start(t)
	s := e2e.Start(t, "-post-rate", "0")
	mallory := e2e.OpenTab(t, browser, s)
	reader := e2e.OpenTab(t, browser, s)
	browsertest.Guard(t, mallory.Ctx)
	mallory.Signup("mallory")
	mallory.Do(
		chromedp.SetValue(chromedp.ID("room-name"), "bidi"),
		chromedp.Click(chromedp.CSS(`.create-room button`)),
		chromedp.WaitVisible(chromedp.ID("composer")),
	)
	room := mallory.Eval(`location.pathname`)
	mallory.WaitLive()
	reader.Signup("reader")
	reader.Do(chromedp.Navigate(s.URL+room), chromedp.Click(chromedp.CSS(`.join-invite button`)), chromedp.WaitVisible(chromedp.ID("composer")))
	reader.WaitLive()

	messages := []string{"plain text", "\u202Egnp.exe", "by \u202Dforced\u202C and \u2067isolate", "\u202Bunclosed embedding", "שלום world"}
	for i, m := range messages {
		js, _ := json.Marshal(m)
		mallory.Eval(`document.getElementById('body').value = ` + string(js) + `, 'set'`)
		mallory.Do(chromedp.Click(chromedp.CSS(`#composer button`)))
		// The fresh composer, not only the message: a message can arrive
		// over the stream before its post's answer replaces the form, and
		// text typed into the old form then goes with it.
		mallory.WaitFor("message "+m, `document.querySelector('#body').value === '' && `+
			`document.querySelectorAll('ol.log li.msg:not(.system)').length === `+itoa(i+1))
	}
	check := func(tb e2e.Tab, where string) {
		t.Helper()
		tb.WaitFor("every message", `document.querySelectorAll('ol.log li.msg:not(.system)').length === `+itoa(len(messages)))
		var got []shown
		if err := json.Unmarshal([]byte(tb.Eval(layout)), &got); err != nil {
			t.Fatal(err)
		}
		plain := got[0]
		for i, g := range got {
			if g.Text != messages[i] {
				t.Errorf("%s: message %d reads %q, want %q", where, i, g.Text, messages[i])
			}
			if g.Bidi != "isolate" && g.Bidi != "plaintext" {
				t.Errorf("%s: message %q has unicode-bidi %q, want isolate", where, g.Text, g.Bidi)
			}
			if g.Author != plain.Author || g.Gap != plain.Gap || g.Rise != plain.Rise {
				t.Errorf("%s: message %q moved its author or time: %+v, plain text: %+v", where, g.Text, g, plain)
			}
		}
		if d := got[len(got)-1].Dir; d != "rtl" {
			t.Errorf("%s: a Hebrew message reads %s, want rtl (dir=auto)", where, d)
		}
		if d := plain.Dir; d != "ltr" {
			t.Errorf("%s: an English message reads %s", where, d)
		}
	}
	check(reader, "reader, live")
	reader.Do(chromedp.Navigate(s.URL + room))
	check(reader, "reader, history page")
	browsertest.Screenshot(t, reader.Ctx, "bidi-messages")

	// Names refuse them, saying why, and keep what was typed.
	mallory.Do(chromedp.Navigate(s.URL + "/people/mallory"))
	js, _ := json.Marshal("\u202Eyrollam")
	mallory.Eval(`document.getElementById('profile-display_name').value = ` + string(js) + `, 'set'`)
	mallory.Submit(`.profile-form button`)
	if got := mallory.Eval(`document.getElementById('profile-display_name-error')?.textContent ?? ''`); !strings.Contains(got, "must not contain text-direction control characters (found U+202E)") {
		t.Errorf("display name with an override: error %q", got)
	}
	if got := mallory.Eval(`document.getElementById('profile-display_name').value`); got != "\u202Eyrollam" {
		t.Errorf("the typed display name was lost: %q", got)
	}
	if got := mallory.Eval(`document.querySelector('h1').textContent`); got != "mallory" {
		t.Errorf("the refused display name shows: %q", got)
	}
	mallory.Do(chromedp.Navigate(s.URL + "/rooms"))
	js, _ = json.Marshal("evil\u2066room")
	mallory.Eval(`document.getElementById('room-name').value = ` + string(js) + `, 'set'`)
	mallory.Submit(`.create-room button`)
	if got := mallory.Eval(`document.querySelector('.create-room .error')?.textContent ?? ''`); !strings.Contains(got, "Room name must not contain text-direction control characters (found U+2066)") {
		t.Errorf("room name with an isolate: error %q", got)
	}
	if got := mallory.Eval(`document.getElementById('room-name').value`); got != "evil\u2066room" {
		t.Errorf("the typed room name was lost: %q", got)
	}
	browsertest.CheckGuard(t, mallory.Ctx, "bidi")

	// Details saved before the rule existed still cannot reorder their
	// neighbours: the title's override stays inside its own isolate, so the
	// department still reads after it.
	storeProfile(t, s.DB, "mallory", chat.Profile{Title: "\u202Eabc", Department: "Ops"})
	// The check must see the reordering where nothing isolates the title.
	unisolated := mallory.Eval(`(() => { const p = document.createElement('p');
	  p.innerHTML = '<span>\u202Eabc</span> · <span>Ops</span>'; document.body.append(p);
	  const [t, d] = p.querySelectorAll('span'); const inOrder = t.getBoundingClientRect().right <= d.getBoundingClientRect().left;
	  p.remove(); return String(inOrder) })()`)
	if unisolated != "false" {
		t.Fatalf("without isolation the department should read first (got in order: %s): the check below proves nothing", unisolated)
	}
	for _, path := range []string{"/people/mallory", "/people?q=mallory"} {
		mallory.Do(chromedp.Navigate(s.URL + path))
		order := mallory.Eval(`(() => { const [t, d] = document.querySelectorAll('.role bdi');
		  return getComputedStyle(t).unicodeBidi + ' ' + (t.getBoundingClientRect().right <= d.getBoundingClientRect().left) })()`)
		if order != "isolate true" {
			t.Errorf("%s: title and department read %q, want isolated and in order", path, order)
		}
	}
}

// storeProfile writes details straight into the database, past the
// server's validation, as data written before a rule would be.
func storeProfile(t *testing.T, db, user string, p chat.Profile) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	u, _, err := st.UserByName(ctx, user)
	if err == nil {
		_, err = st.UpdateProfile(ctx, user, p, u)
	}
	if err != nil {
		t.Fatal(err)
	}
}
