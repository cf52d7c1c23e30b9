package links

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/rtmessenger/rtmessenger/internal/browsertest"
	"github.com/rtmessenger/rtmessenger/internal/e2e"
)

// A refused "start a conversation" (POST /dm, which has no page of its
// own) leaves the browser on the rooms page, with the form as typed and
// why; reloading that page posts nothing. The name is made valid in
// between: a reload that posted again would now start the conversation.
func TestRefusedConversationReloadsWithoutPosting(t *testing.T) {
	for _, script := range []bool{true, false} {
		name := map[bool]string{true: "script", false: "no script"}[script]
		t.Run(name, func(t *testing.T) {
			browser := browsertest.Start(t)
			s := e2e.Start(t)
			anna := e2e.OpenTab(t, browser, s)
			anna.SignupForm("anna")
			if !script {
				noScript(t, anna)
			}
			anna.Do(chromedp.SendKeys(chromedp.ID("dm-with"), "zoe"))
			anna.Submit(`.start-conversation button`)
			refused := anna.Eval(`location.pathname + location.search`)
			if !strings.HasPrefix(refused, "/rooms?kept=") {
				t.Fatalf("after the refusal the address is %s, want the rooms page", refused)
			}
			shows := `document.getElementById('with-error').textContent.includes('zoe') && document.getElementById('dm-with').value === 'zoe'`
			anna.WaitFor("the refusal, with what was typed", shows)
			if got := anna.Eval(`typeof htmx`); (got == "object") != script {
				t.Fatalf("htmx is %s on the page (script %v)", got, script)
			}

			zoe := e2e.OpenTab(t, browser, s)
			zoe.SignupForm("zoe")

			anna.Do(chromedp.Reload())
			anna.WaitFor("the same page again, still showing the refusal", `location.pathname + location.search === '`+refused+`' && `+shows)
			zoe.Do(chromedp.Reload())
			if got := zoe.Eval(`document.getElementById('sidebar').innerText`); strings.Contains(got, "anna") {
				t.Fatalf("a conversation was started by the reload: zoe's sidebar reads %q", got)
			}
		})
	}
}

// noScript turns the tab's page scripts off, as a browser without
// JavaScript: from the next page on.
func noScript(t *testing.T, tb e2e.Tab) {
	t.Helper()
	if _, err := chromedp.Call(tb.Ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
}

// paste puts text into the focused box at once, as a paste does (typing
// 4,000 characters key by key would take a while).
func paste(tb e2e.Tab, box, text string) {
	tb.T.Helper()
	tb.Do(chromedp.Focus(chromedp.ID(box)), chromedp.Func(func(ctx context.Context, target *chromedp.Target) error {
		_, err := cdp.Call(ctx, target, input.InsertText, input.InsertTextParams{Text: text})
		return err
	}))
}

const count = `((document.getElementById('body-count') || {}).textContent || '')`

// A long paste is never cut short: near the limit the composer counts,
// and a text over it is refused before it is sent, in the server's words,
// with the text kept. Brought back under the limit, it sends. Without
// script, the server refuses it and the room's page (not the post's
// address) brings it back with the same words and the count.
func TestLongPasteIsCountedAndRefusedWithTheTextKept(t *testing.T) {
	browser := browsertest.Start(t)
	s := e2e.Start(t)
	anna := e2e.OpenTab(t, browser, s)
	openRoom(anna, "anna", "lobby")
	room := anna.Eval(`location.pathname`)

	paste(anna, "body", strings.Repeat("a", 3400))
	if got := anna.Eval(count); got != "" && anna.Eval(`String(document.getElementById('body-count').hidden)`) != "true" {
		t.Errorf("a count shows far from the limit: %q", got)
	}
	paste(anna, "body", strings.Repeat("b", 412))
	anna.WaitFor("the count near the limit", count+` === '3,812 / 4,000'`)
	paste(anna, "body", strings.Repeat("c", 288))
	anna.WaitFor("the count over the limit", count+` === '4,100 / 4,000' && 'over' in document.getElementById('body-count').dataset`)
	if n := anna.Eval(`String(` + composerText + `.length)`); n != "4100" {
		t.Fatalf("the box holds %s characters of the 4,100 pasted", n)
	}

	anna.Send("")
	const refusal = "Message is too long: 4100 characters, the limit is 4000."
	anna.WaitFor("the refusal", composerError+` === '`+refusal+`'`)
	browsertest.Screenshot(t, anna.Ctx, "long-paste-refused")
	if n := anna.Eval(`String(` + composerText + `.length)`); n != "4100" {
		t.Fatalf("after the refusal the box holds %s characters", n)
	}
	if n := anna.Eval(`String(performance.getEntriesByType('resource').filter(e => e.name.endsWith('/messages')).length)`); n != "0" {
		t.Fatalf("the text was sent anyway (%s requests)", n)
	}

	// Cut back to the limit: the refusal goes, and it sends.
	anna.Eval(`(() => { const b = document.getElementById('body'); b.value = b.value.slice(0, 4000); b.dispatchEvent(new Event('input', { bubbles: true })); return ''; })()`)
	anna.WaitFor("the refusal gone", count+` === '4,000 / 4,000' && `+composerError+` === ''`)
	anna.Do(chromedp.Click(chromedp.CSS(`#composer button[type=submit]`)))
	anna.WaitFor("the message sent", composerText+` === '' && `+e2e.LogText+`.includes('cccc')`)

	// Without script.
	noScript(t, anna)
	anna.Do(chromedp.Navigate(s.URL+room), chromedp.WaitVisible(chromedp.ID("composer")))
	paste(anna, "body", strings.Repeat("d", 4100))
	anna.Submit(`#composer button[type=submit]`)
	if got := anna.Eval(`location.pathname + location.search`); !strings.HasPrefix(got, room+"?kept=") {
		t.Fatalf("after the refusal the address is %s, want the room's page", got)
	}
	anna.WaitFor("the refusal without script", composerError+` === '`+refusal+`' && `+count+` === '4,100 / 4,000' && `+composerText+`.length === 4100`)
	if got := anna.Eval(`typeof htmx`); got != "undefined" {
		t.Fatalf("the page ran its scripts (htmx is %s)", got)
	}
}
