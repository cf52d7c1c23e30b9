package xss

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/chromedp/chromedp"
	"github.com/rtmessenger/rtmessenger/chat"
	"github.com/rtmessenger/rtmessenger/internal/attack"
	"github.com/rtmessenger/rtmessenger/internal/browsertest"
	"github.com/rtmessenger/rtmessenger/internal/e2e"
)

// domIsClean is JavaScript that reports anything hostile text could have
// added: inline handlers, foreign scripts or active elements, and message
// items with more than their fixed structure.
const domIsClean = `(() => {
  const bad = [];
  for (const el of document.querySelectorAll('*')) {
    for (const a of el.attributes) if (a.name.startsWith('on')) bad.push(el.tagName + '[' + a.name + ']');
  }
  for (const s of document.scripts) if (!s.src.includes('/static/')) bad.push('script ' + s.outerHTML.slice(0, 60));
  for (const el of document.querySelectorAll('iframe, object, embed, img, svg, video, audio, style, base, meta[http-equiv], form[action^="//"], math, template, details, marquee'))
    bad.push(el.tagName);
  // A message item is id, class and its author (data-author), and what it
  // mentions (data-mentions, which the page script marks data-seen); inside,
  // its meta line (author, time, the "⋯" link to its own page) and body.
  const own = ['id', 'class', 'data-author', 'data-mentions', 'data-seen'];
  // Its body holds the formatting's elements only, with their own attributes.
  const formatting = {SPAN: ['class'], EM: [], STRONG: [], CODE: ['class'], BLOCKQUOTE: [], PRE: [], A: ['href', 'rel', 'target', 'title']};
  for (const li of document.querySelectorAll('ol.log li.msg:not(.system)')) {
    // Outside its body, its parts are fixed: the meta line (name, time,
    // "edited", the "⋯" link to the message's page), a reply's quote,
    // reactions, and the page's own toolbar.
    const parts = [...li.children].every((c) => c.matches('div.meta, div.body, a.quote, div.rx, div.msg-tools')) &&
      [...li.querySelectorAll(':scope > .meta > *')].every((c) => c.matches('strong.author, span.site, span.badge, time, span.edited, a.more'));
    const more = li.querySelector(':scope > .meta > a.more');
    if (!parts || (more && !/^\/rooms\/\d+\/messages\/\d+\/actions$/.test(more.getAttribute('href'))) || [...li.attributes].some((a) => !own.includes(a.name))) bad.push('message ' + li.id + ' has extra markup');
    for (const el of li.querySelectorAll('.body *')) {
      const attrs = formatting[el.tagName];
      if (!attrs || [...el.attributes].some((a) => !attrs.includes(a.name))) bad.push('message ' + li.id + ' has ' + el.outerHTML.slice(0, 60));
      else if (el.tagName === 'SPAN' && el.className !== 'mention') bad.push('message ' + li.id + ' has span.' + el.className);
      else if (el.tagName === 'CODE' && el.className && !(/^language-[a-z0-9-]+$/.test(el.className) && el.parentElement.tagName === 'PRE')) bad.push('message ' + li.id + ' has code.' + el.className);
      else if (el.tagName === 'A' && (!['http:', 'https:'].includes(el.protocol) || el.rel !== 'noopener nofollow ugc' || el.target !== '_blank')) bad.push('message ' + li.id + ' has link ' + el.outerHTML.slice(0, 80));
    }
  }
  return JSON.stringify(bad);
})()`

const bodies = `JSON.stringify([...document.querySelectorAll('ol.log li.msg:not(.system) .body')].map(e => e.textContent))`

// Every payload goes in through the real forms, as messages, room names and
// topics, and must come out as the same text in a real browser: in the page
// that renders history and in another member's live stream. No script may
// run, no dialog open, no CSP violation occur, no element or attribute appear.
func TestHostileTextStaysText(t *testing.T) {
	browser := browsertest.Start(t)
	s := e2e.Start(t, "-post-rate", "0", "-stream-rate", "0")
	mallory := e2e.OpenTab(t, browser, s)
	reader := e2e.OpenTab(t, browser, s)
	browsertest.Guard(t, mallory.Ctx)
	browsertest.Guard(t, reader.Ctx)
	mallory.Signup("mallory")

	// Payloads as room names and topics.
	var names []string
	for _, p := range attack.XSS {
		if utf8.RuneCountInString(p) <= chat.MaxRoomNameRunes && !strings.Contains(p, "\n") {
			names = append(names, p)
		}
	}
	for _, name := range names {
		mallory.Do(
			chromedp.Navigate(s.URL+"/rooms"),
			chromedp.SetValue(chromedp.ID("room-name"), name),
			chromedp.SetValue(chromedp.ID("room-topic"), name),
			chromedp.Click(chromedp.CSS(`.create-room button`)),
			chromedp.WaitVisible(chromedp.ID("composer")),
		)
		if got := mallory.Eval(`document.querySelector('h1').textContent`); got != "# "+name {
			t.Errorf("room heading %q, want %q", got, "# "+name)
		}
		if got := mallory.Eval(`document.title`); got != "# "+name+" · RT Messenger" {
			t.Errorf("title %q for room %q", got, name)
		}
		if got := mallory.Eval(`document.querySelector('.room-head p bdi').textContent`); got != name {
			t.Errorf("topic shows as %q, want %q", got, name)
		}
		browsertest.CheckGuard(t, mallory.Ctx, "room "+name)
	}
	mallory.Do(chromedp.Navigate(s.URL + "/rooms"))
	var listed []string
	if err := json.Unmarshal([]byte(mallory.Eval(`JSON.stringify([...document.querySelectorAll('.room-cards .room-name')].map(e => e.textContent))`)), &listed); err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if !slices.Contains(listed, "# "+name) {
			t.Errorf("rooms page does not list %q as text", name)
		}
	}
	if bad := mallory.Eval(domIsClean); bad != "[]" {
		t.Errorf("rooms page: %s", bad)
	}

	// Payloads as profile details, through the details form: the person's
	// page and the directory must show them as text.
	for _, name := range names {
		mallory.Do(
			chromedp.Navigate(s.URL+"/people/mallory"),
			chromedp.SetValue(chromedp.ID("profile-display_name"), name),
			chromedp.SetValue(chromedp.ID("profile-title"), name),
			chromedp.SetValue(chromedp.ID("profile-bio"), name),
			chromedp.Click(chromedp.CSS(`.profile-form button`)),
			chromedp.WaitVisible(chromedp.ID("saved")),
		)
		clean, _ := chat.CleanProfile(chat.Profile{DisplayName: name})
		if got := mallory.Eval(`document.querySelector('h1').textContent`); got != clean.DisplayName {
			t.Errorf("display name shows as %q, want %q", got, clean.DisplayName)
		}
		if got := mallory.Eval(`document.querySelector('.details .bio').textContent`); got != clean.DisplayName {
			t.Errorf("bio shows as %q, want %q", got, clean.DisplayName)
		}
		if bad := mallory.Eval(domIsClean); bad != "[]" {
			t.Errorf("person page with %q: %s", name, bad)
		}
		mallory.Do(chromedp.Navigate(s.URL + "/people?q=mallory"))
		if got := mallory.Eval(`document.querySelector('.people-cards .person-name').textContent`); got != clean.DisplayName {
			t.Errorf("directory shows %q, want %q", got, clean.DisplayName)
		}
		if bad := mallory.Eval(domIsClean); bad != "[]" {
			t.Errorf("directory with %q: %s", name, bad)
		}
		browsertest.CheckGuard(t, mallory.Ctx, "profile "+name)
	}

	// Payloads as messages, watched live by another member.
	mallory.Do(
		chromedp.Navigate(s.URL+"/rooms"),
		chromedp.SetValue(chromedp.ID("room-name"), "hostile"),
		chromedp.Click(chromedp.CSS(`.create-room button`)),
		chromedp.WaitVisible(chromedp.ID("composer")),
	)
	room := mallory.Eval(`location.pathname`)
	mallory.WaitLive()
	reader.Signup("reader")
	reader.Do(chromedp.Navigate(s.URL+room), chromedp.Click(chromedp.CSS(`.join-invite button`)), chromedp.WaitVisible(chromedp.ID("composer")))
	reader.WaitLive()

	// Each payload goes as it is, then inside every construct of the
	// formatting (a link, code, emphasis, a quote, a code block); each must
	// read as the parser says, markers left out.
	var want []string
	var payloads []string
	for _, p := range append(slices.Clone(attack.XSS), attack.SSE...) {
		payloads = append(payloads, p, attack.Formatted(p))
	}
	for _, p := range payloads {
		clean, err := chat.CleanMessage(p)
		if err != nil {
			t.Fatalf("payload %q refused: %v", p, err)
		}
		want = append(want, chat.MarkupText(chat.ParseMarkup(clean)))
		// Set through JavaScript: chromedp's SetValue balks when a textarea
		// normalises \r, as browsers do.
		js, _ := json.Marshal(p)
		mallory.Eval(`document.getElementById('body').value = ` + string(js) + `, 'set'`)
		mallory.Do(chromedp.Click(chromedp.CSS(`#composer button`)))
		mallory.WaitFor("the composer to reset", `document.querySelector('#body').value === '' && `+
			`document.querySelectorAll('ol.log li.msg:not(.system)').length === `+itoa(len(want)))
	}
	check := func(tb e2e.Tab, where string) {
		t.Helper()
		tb.WaitFor("every message", `document.querySelectorAll('ol.log li.msg:not(.system)').length === `+itoa(len(want)))
		var got []string
		if err := json.Unmarshal([]byte(tb.Eval(bodies)), &got); err != nil {
			t.Fatal(err)
		}
		for i := range want {
			if i >= len(got) || got[i] != want[i] {
				t.Errorf("%s: message %d reads %q, want %q", where, i, got[i], want[i])
			}
		}
		if bad := tb.Eval(domIsClean); bad != "[]" {
			t.Errorf("%s: %s", where, bad)
		}
		browsertest.CheckGuard(t, tb.Ctx, where)
	}
	check(reader, "reader, live over the stream")
	check(mallory, "mallory, live")
	// The page shows the newest messages; older ones come a page at a time.
	reader.Do(chromedp.Navigate(s.URL + room))
	for reader.Eval(`String(document.querySelector('.older a') !== null)`) == "true" {
		n := reader.Eval(`String(document.querySelectorAll('ol.log li.msg').length)`)
		reader.Do(chromedp.Click(chromedp.CSS(`.older a`)))
		reader.WaitFor("older messages", `document.querySelectorAll('ol.log li.msg').length > `+n)
	}
	check(reader, "reader, history page and older pages")
	// The check must see what the formatting never makes.
	reader.Eval(`document.querySelector('ol.log li.msg:not(.system) .body').insertAdjacentHTML('beforeend', '<a href="javascript:void(0)" rel="noopener nofollow ugc" target="_blank">x</a>'), 'injected'`)
	if bad := reader.Eval(domIsClean); !strings.Contains(bad, "has link") {
		t.Errorf("an injected javascript: link passes the check: %s", bad)
	}
	browsertest.Screenshot(t, reader.Ctx, "hostile-text")
	t.Logf("%d messages (payloads plain and formatted), %d payloads as room names, topics and profile details: all literal text", len(want), len(names))
}

func itoa(n int) string { return strconv.Itoa(n) }

// The strict Content-Security-Policy must cost nothing: no page, fragment
// or interaction may trip it.
func TestMainPagesRaiseNoCSPViolations(t *testing.T) {
	browser := browsertest.Start(t)
	s := e2e.Start(t)
	gus := e2e.OpenTab(t, browser, s)
	browsertest.Guard(t, gus.Ctx)
	for _, path := range []string{"/login", "/signup", "/no/such/page"} {
		gus.Do(chromedp.Navigate(s.URL + path))
		browsertest.CheckGuard(t, gus.Ctx, path)
	}
	gus.Signup("gus")
	browsertest.CheckGuard(t, gus.Ctx, "/rooms")
	gus.Do(chromedp.SetValue(chromedp.ID("room-name"), "talk"))
	gus.Submit(`.create-room button`)
	gus.WaitLive()
	room := gus.Eval(`location.pathname`)
	e2e.PostDirectly(t, s.DB, "gus", "talk", 60, "filler") // enough for "load older"
	gus.Do(chromedp.Navigate(s.URL + room))
	gus.WaitLive()
	gus.Send("typed and sent")
	gus.WaitFor("the sent message", e2e.LogText+`.includes('typed and sent')`)
	gus.Do(chromedp.Click(chromedp.CSS(`.older a`)))
	gus.WaitFor("older messages", e2e.LogText+`.includes('filler 0')`)
	browsertest.CheckGuard(t, gus.Ctx, room+" after posting and loading older")
	for _, path := range []string{room + "/members", room + "/messages?before=30", "/rooms", "/people", "/people/gus", "/people/import", "/announcements"} {
		gus.Do(chromedp.Navigate(s.URL + path))
		browsertest.CheckGuard(t, gus.Ctx, path)
	}

	// The guard itself must see a violation when one happens.
	gus.Eval(`document.body.insertAdjacentHTML('beforeend', '<img src="/favicon.ico" onload="alert(1)" onerror="alert(1)">'), 'injected'`)
	gus.WaitFor("the guard to record the blocked handler", `window.__csp.length > 0 && window.__dialogs === 0`)
}
