package search

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"
	"github.com/rtmessenger/rtmessenger/internal/browsertest"
	"github.com/rtmessenger/rtmessenger/internal/e2e"
)

// Search, click the hit: the permalink shows the message in its room,
// marked and in view though many came after it, and "Copy link" copies
// its address.
func TestSearchOpensTheMessageHighlighted(t *testing.T) {
	chrome := browsertest.Start(t)
	s := e2e.Start(t)
	anna := e2e.OpenTab(t, chrome, s)
	problems := browsertest.WatchConsole(anna.Ctx)
	anna.Signup("anna")
	anna.Do(chromedp.Navigate(s.URL+"/rooms"), chromedp.SetValue(chromedp.ID("room-name"), "lobby"))
	anna.Submit(`.create-room button`)
	anna.Do(chromedp.WaitVisible(chromedp.ID("composer")))
	anna.Send("where is the needle")
	anna.WaitFor("the sent message", `document.querySelector('#body').value === '' && document.querySelector('ol.log').textContent.includes('the needle')`)
	e2e.PostDirectly(t, s.DB, "anna", "lobby", 80, "filler")

	anna.Do(chromedp.Navigate(s.URL+"/search"), chromedp.SendKeys(chromedp.ID("search-q"), "NEEDLE"))
	anna.Submit(`.search-form button`)
	anna.WaitFor("a hit", `document.querySelector('.search-results mark')?.textContent === 'needle'`)
	anna.Submit(`.search-results a.snippet`)
	anna.WaitFor("the permalink", `location.pathname.includes('/messages/') && location.hash.startsWith('#msg-')`)
	target := `document.querySelector(':target')`
	anna.WaitFor("the message, marked", target+`?.textContent.includes('where is the needle') && getComputedStyle(`+target+`).backgroundColor !== 'rgba(0, 0, 0, 0)'`)
	anna.WaitFor("the message in view", `(() => { const r = `+target+`.getBoundingClientRect(), s = document.querySelector('.scroller').getBoundingClientRect();
		return r.top >= s.top && r.bottom <= s.bottom; })()`)
	if got := anna.Eval(`document.querySelector('ol.log').textContent.includes('filler 79') ? 'newest shown' : 'window'`); got != "window" {
		t.Errorf("the permalink shows the newest messages, not those around the one asked for")
	}
	browsertest.Screenshot(t, anna.Ctx, "search-permalink")

	grant := func(name string) {
		err := chromedp.Func(func(ctx context.Context, tgt *chromedp.Target) error {
			_, err := cdp.Call(ctx, tgt, browser.SetPermission, browser.SetPermissionParams{
				Permission: &browser.PermissionDescriptor{Name: name}, Setting: browser.PermissionSettingGranted, Origin: s.URL})
			return err
		})
		anna.Do(err)
	}
	grant("clipboard-write")
	// The message's toolbar ("⋯") copies its permalink: this page's address.
	anna.Eval(`(() => { const write = navigator.clipboard.writeText.bind(navigator.clipboard);
		navigator.clipboard.writeText = (text) => { window.__copied = text; return write(text); }; return 'watching'; })()`)
	want := anna.Eval(`location.href`)
	anna.Do(chromedp.Click(chromedp.CSS(`:target .meta a.more`)))
	copyButton := `:target .msg-tools button[data-act="copy"]`
	anna.WaitFor("the message's toolbar", `document.querySelector('`+copyButton+`') !== null`)
	anna.Do(chromedp.Click(chromedp.CSS(copyButton)))
	anna.WaitFor("Copied", `document.querySelector('`+copyButton+`').textContent === 'Copied'`)
	if got := anna.Eval(`window.__copied`); got != want {
		t.Errorf("copied %q, want the page's own address %q", got, want)
	}
	if !strings.HasSuffix(anna.Eval(`location.href`), anna.Eval(`location.hash`)) {
		t.Error("copying navigated away")
	}
	problems.Check(t, "search and permalink")
}
