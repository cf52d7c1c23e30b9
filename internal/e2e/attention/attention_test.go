package attention

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/rtmessenger/rtmessenger/internal/browsertest"
	"github.com/rtmessenger/rtmessenger/internal/e2e"
)

// open loads path and waits for its stream: what is posted after it
// arrives live.
func open(tb e2e.Tab, path string) {
	tb.T.Helper()
	tb.Do(chromedp.Navigate(tb.URL + path))
	tb.WaitLive()
}

// counts is JavaScript for a room's counts element in the sidebar.
func counts(room string) string {
	return `document.getElementById('counts-` + strings.TrimPrefix(room, "/rooms/") + `')`
}

// sent waits until the sender's log shows text and its composer is fresh,
// so the next message is typed into an empty box.
func sent(tb e2e.Tab, text string) {
	tb.T.Helper()
	tb.WaitFor("the sent message "+text, `document.querySelector('#body').value === '' && `+e2e.LogText+`.includes(`+quote(text)+`)`)
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", `\'`) + "'" }

// Unread survives a reload, clears when the room is opened (in the tab
// that opens it and, over the stream, in the person's other tabs) and
// shows in the title; the room shows a line where the new messages begin.
func TestUnreadSurvivesReloadAndClearsOnOpen(t *testing.T) {
	browser := browsertest.Start(t)
	s := e2e.Start(t)
	anna, ben := e2e.OpenTab(t, browser, s), e2e.OpenTab(t, browser, s)
	annaProblems, benProblems := browsertest.WatchConsole(anna.Ctx), browsertest.WatchConsole(ben.Ctx)
	anna.Signup("anna")
	lobby := anna.CreateRoom("lobby")
	ben.Signup("ben")
	ben.Join(lobby)
	side := ben.CreateRoom("side")
	open(ben, side)

	for _, text := range []string{"one", "two", "three"} {
		anna.Send(text)
		sent(anna, text)
	}
	ben.WaitFor("three unread in the lobby", counts(lobby)+`.dataset.unread === '3' && `+counts(lobby)+`.textContent.includes('3 unread')`)
	ben.WaitFor("the total in the title", `document.title === '(3) # side · RT Messenger'`)
	if got := ben.Eval(`document.querySelector('.sidebar a[href="` + lobby + `"]').className`); got != "has-unread" {
		t.Errorf("the lobby's link is %q, want has-unread", got)
	}
	if got := ben.Eval(counts(side) + `.dataset.unread`); got != "0" {
		t.Errorf("the room on screen counts %s", got)
	}

	ben.Do(chromedp.Reload())
	ben.WaitLive()
	ben.WaitFor("the count after a reload", counts(lobby)+`.dataset.unread === '3'`)
	ben.WaitFor("the title after a reload", `document.title === '(3) # side · RT Messenger'`)

	// A second tab of ben's opens the lobby; the first, on the side room,
	// follows. (The first tab holds the stream: it stays put, so the
	// stream does not move between tabs meanwhile.)
	other := ben.SameProfile()
	open(other, lobby)
	other.WaitFor("the lobby read", counts(lobby)+`.dataset.unread === '0' && document.title === '# lobby · RT Messenger'`)
	if got := other.Eval(`document.querySelector('li.new-line + li.msg .body').textContent`); got != "one" {
		t.Errorf("the New messages line is before %q, want the first unread", got)
	}
	ben.WaitFor("the first tab following", counts(lobby)+`.dataset.unread === '0' && document.title === '# side · RT Messenger'`)
	if n := ben.Eval(`String(document.querySelectorAll('#sidebar .count').length)`); n != "0" {
		t.Errorf("the first tab still shows %s counts", n)
	}

	// A message into the lobby on the second tab's screen is read there;
	// the first tab counts it, then follows the mark.
	anna.Send("four")
	sent(anna, "four")
	other.WaitFor("four on the second tab's screen", e2e.LogText+`.includes('four')`)
	four := other.Eval(`[...document.querySelectorAll('#log-` + strings.TrimPrefix(lobby, "/rooms/") + ` > li.msg')].pop().id.slice(4)`)
	ben.WaitFor("the first tab past four and read", `Number(`+counts(lobby)+`.dataset.last) >= `+four+` && `+counts(lobby)+`.dataset.unread === '0'`)
	open(other, "/rooms")
	if got := other.Eval(counts(lobby) + `.dataset.unread`); got != "0" {
		t.Errorf("on a fresh page the lobby counts %s: the mark did not reach the server", got)
	}
	if got := other.Eval(`document.title`); got != "Rooms · RT Messenger" {
		t.Errorf("title %q", got)
	}
	browsertest.Screenshot(t, ben.Ctx, "unread-ben-first-tab")
	annaProblems.Check(t, "anna")
	benProblems.Check(t, "ben")
}

// A mention is highlighted for the person it names, and nobody else, on
// the page and live; it counts apart in the sidebar.
func TestMentionHighlightedAndCounted(t *testing.T) {
	browser := browsertest.Start(t)
	s := e2e.Start(t)
	anna, ben, cleo := e2e.OpenTab(t, browser, s), e2e.OpenTab(t, browser, s), e2e.OpenTab(t, browser, s)
	problems := browsertest.WatchConsole(ben.Ctx)
	anna.Signup("anna")
	lobby := anna.CreateRoom("lobby")
	ben.Signup("ben")
	ben.Join(lobby)
	cleo.Signup("cleo")
	cleo.Join(lobby)
	open(ben, "/rooms")
	open(cleo, lobby)

	anna.Send("hello @ben and @nobody")
	sent(anna, "hello @ben")
	ben.WaitFor("a mention counted", counts(lobby)+`.dataset.mentions === '1' && `+counts(lobby)+`.textContent.includes('@1')`)
	last := `[...document.querySelectorAll('ol.log > li.msg')].pop()`
	cleo.WaitFor("the message on cleo's screen", e2e.LogText+`.includes('hello @ben')`)
	for name, tb := range map[string]e2e.Tab{"cleo": cleo, "anna": anna} {
		if got := tb.Eval(last + `.className`); strings.Contains(got, "mentions-me") {
			t.Errorf("%s's page highlights ben's mention: %q", name, got)
		}
		if got := tb.Eval(last + `.querySelector('.mention').textContent`); got != "@ben" {
			t.Errorf("%s's page marks %q", name, got)
		}
	}
	open(ben, lobby)
	if got := ben.Eval(last + `.className`); !strings.Contains(got, "mentions-me") {
		t.Errorf("ben's page does not highlight his mention: %q", got)
	}
	if got := ben.Eval(`String(document.querySelectorAll('.mention').length)`); got != "1" {
		t.Errorf("%s names marked; @nobody is no member", got)
	}
	ben.WaitFor("the mention read", counts(lobby)+`.dataset.mentions === '0'`)

	// Live, on the room's own page. Text after the name: with the caret
	// still on "@ben", Enter would pick ben from the suggestions (if they
	// came in time) instead of sending.
	anna.Send("@ben again")
	ben.WaitFor("the live mention highlighted", last+`.textContent.includes('again') && `+last+`.classList.contains('mentions-me')`)
	cleo.WaitFor("the live mention on cleo's page", e2e.LogText+`.includes('again')`)
	if got := cleo.Eval(last + `.className`); strings.Contains(got, "mentions-me") {
		t.Errorf("cleo's page highlights it live: %q", got)
	}
	// The mentions page lists both, newest first.
	ben.Do(chromedp.Navigate(s.URL + "/mentions"))
	if got := ben.Eval(`[...document.querySelectorAll('.mentioned-in .body')].map(b => b.textContent).join('|')`); got != "@ben again|hello @ben and @nobody" {
		t.Errorf("the mentions page lists %q", got)
	}
	browsertest.Screenshot(t, ben.Ctx, "mentions-ben")
	problems.Check(t, "ben")
}

// key presses a key that types no character, as a person's key press
// reaches the page.
func key(name string, code int64) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		for _, typ := range []input.DispatchKeyEventType{input.DispatchKeyEventTypeRawKeyDown, input.DispatchKeyEventTypeKeyUp} {
			if _, err := cdp.Call(ctx, t, input.DispatchKeyEvent, input.DispatchKeyEventParams{
				Type: typ, Key: name, Code: name, WindowsVirtualKeyCode: code, NativeVirtualKeyCode: code,
			}); err != nil {
				return err
			}
		}
		return nil
	})
}

// The composer suggests members after "@"; the arrow keys choose, Enter
// and Tab pick, Escape closes, and a picked name is a mention.
func TestMentionSuggestionsByKeyboard(t *testing.T) {
	browser := browsertest.Start(t)
	s := e2e.Start(t)
	anna, ben, bella := e2e.OpenTab(t, browser, s), e2e.OpenTab(t, browser, s), e2e.OpenTab(t, browser, s)
	problems := browsertest.WatchConsole(anna.Ctx)
	anna.Signup("anna")
	lobby := anna.CreateRoom("lobby")
	ben.Signup("ben")
	ben.Join(lobby)
	bella.Signup("bella")
	bella.Join(lobby)
	open(anna, lobby)

	options := `[...document.querySelectorAll('#mention-list [role="option"]')]`
	chosen := options + `.filter(o => o.getAttribute('aria-selected') === 'true').map(o => o.dataset.name).join()`
	anna.Do(chromedp.SendKeys(chromedp.ID("body"), "hi @be"))
	anna.WaitFor("two suggestions, the first chosen", options+`.map(o => o.dataset.name).join() === 'bella,ben' && `+chosen+` === 'bella'`)
	anna.Do(key("ArrowDown", 40))
	anna.WaitFor("ben chosen", chosen+` === 'ben' && document.querySelector('#body').getAttribute('aria-activedescendant') === 'mention-opt-ben'`)
	anna.Do(key("ArrowDown", 40))
	anna.WaitFor("around to bella", chosen+` === 'bella'`)
	anna.Do(key("ArrowUp", 38))
	anna.Do(key("Enter", 13))
	anna.WaitFor("ben picked", `document.querySelector('#body').value === 'hi @ben ' && `+options+`.length === 0`)

	anna.Do(chromedp.SendKeys(chromedp.ID("body"), "and @bel"))
	anna.WaitFor("bella suggested", options+`.length === 1 && `+chosen+` === 'bella'`)
	anna.Do(key("Escape", 27))
	anna.WaitFor("the list closed", options+`.length === 0 && document.querySelector('#body').value === 'hi @ben and @bel'`)
	// An answer for the same word that comes after Escape (a slow server,
	// a slow typist whose pause sent an earlier request) leaves it closed.
	// Counted on the way down (capturing on window), before the page's own
	// handler sees the answer: it must hold bella, or the step proves nothing.
	anna.Eval(`window.rtmMentionAnswers = [];
		window.addEventListener('htmx:after:swap', (e) => {
			if (e.target.id === 'mention-list') window.rtmMentionAnswers.push(e.target.querySelectorAll('[role="option"]').length);
		}, true);
		htmx.trigger(document.getElementById('mention-list'), 'rtm-mention'); ''`)
	anna.WaitFor("a late answer for @bel", `window.rtmMentionAnswers.length > 0`)
	if got := anna.Eval(`window.rtmMentionAnswers.join()`); got != "1" {
		t.Errorf("the late answer held %q suggestions, want 1 (bella)", got)
	}
	if n := anna.Eval(options + `.length + ''`); n != "0" {
		t.Errorf("a late answer reopened the list Escape closed: %s suggestions", n)
	}
	anna.Do(chromedp.SendKeys(chromedp.ID("body"), "l"))
	anna.WaitFor("bella suggested again", options+`.length === 1`)
	anna.Do(key("Tab", 9))
	anna.WaitFor("bella picked", `document.querySelector('#body').value === 'hi @ben and @bella ' && document.activeElement.id === 'body'`)
	anna.Do(key("Enter", 13))
	sent(anna, "hi @ben and @bella")
	last := `[...document.querySelectorAll('ol.log > li.msg')].pop()`
	if got := anna.Eval(`[...` + last + `.querySelectorAll('.mention')].map(m => m.textContent).join()`); got != "@ben,@bella" {
		t.Errorf("the sent message marks %q", got)
	}
	if got := anna.Eval(last + `.dataset.mentions.split(' ').length + ''`); got != "2" {
		t.Errorf("data-mentions names %s people", got)
	}

	// Escape before any answer came, the list still empty, keeps the answer
	// closed when it comes. The word is put in place without an input
	// event, so that no request leaves before the key.
	anna.Eval(`const box = document.getElementById('body'); box.focus(); box.value = 'hey @bel'; box.setSelectionRange(8, 8);
		document.getElementById('mention-q').value = 'bel'; window.rtmMentionAnswers = []; ''`)
	anna.Do(key("Escape", 27))
	anna.Eval(`htmx.trigger(document.getElementById('mention-list'), 'rtm-mention'); ''`)
	anna.WaitFor("the answer for @bel", `window.rtmMentionAnswers.length > 0`)
	if got := anna.Eval(`window.rtmMentionAnswers.join()`); got != "1" {
		t.Errorf("the answer after an early Escape held %q suggestions, want 1 (bella)", got)
	}
	if n := anna.Eval(options + `.length + ''`); n != "0" {
		t.Errorf("an answer opened the list Escape had closed before it came: %s suggestions", n)
	}
	problems.Check(t, "anna")
}

// Suggestions that come after the @word they answer has changed (typing
// outran the server) fit no longer: Enter sends the message as typed
// instead of putting a name from the late answer in place of the word.
func TestALateSuggestionIsNotPicked(t *testing.T) {
	browser := browsertest.Start(t)
	s := e2e.Start(t)
	anna, ben := e2e.OpenTab(t, browser, s), e2e.OpenTab(t, browser, s)
	problems := browsertest.WatchConsole(anna.Ctx)
	anna.Signup("anna")
	lobby := anna.CreateRoom("lobby")
	ben.Signup("ben")
	ben.Join(lobby)
	open(anna, lobby)

	// The real answer for "@nobody" (no one) comes first: were it to land
	// after the late one below, it would clear the list by itself.
	anna.Eval(`window.answered = []; document.addEventListener('htmx:after:swap', (e) => {
		const c = e.detail && e.detail.ctx; if (c && c.request) window.answered.push(String(c.request.action)) }), ''`)
	anna.Do(chromedp.SendKeys(chromedp.ID("body"), "hello @ben and @nobody"))
	anna.WaitFor("the answer for @nobody", `window.answered.some((a) => a.includes('mention-suggestions') && a.includes('q=nobody'))`)
	// The answer for "@ben", as if it came only now.
	anna.Eval(`htmx.swap({target: document.getElementById('mention-list'), swap: 'innerHTML',
		text: '<ul id="mention-options" role="listbox"><li id="mention-opt-ben" role="option" data-name="ben" aria-selected="false"><strong>@ben</strong></li></ul>'}).then(() => { window.lateAnswer = true }), ''`)
	anna.WaitFor("the late answer swapped in", `window.lateAnswer === true`)
	if got := anna.Eval(`String(document.querySelectorAll('#mention-list [role="option"]').length)`); got != "0" {
		t.Errorf("%s suggestions for a word that is gone", got)
	}
	anna.Do(key("Enter", 13))
	sent(anna, "hello @ben and @nobody")
	problems.Check(t, "anna")
}
