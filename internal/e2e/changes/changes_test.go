package changes

import (
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/rtmessenger/rtmessenger/internal/browsertest"
	"github.com/rtmessenger/rtmessenger/internal/e2e"
)

// room makes a room as tb and brings other into it; both are left live on
// the room's page.
func room(tb, other e2e.Tab) string {
	tb.T.Helper()
	tb.Do(chromedp.Navigate(tb.URL + "/rooms"))
	tb.Do(chromedp.SetValue(chromedp.ID("room-name"), "lobby"))
	tb.Submit(`.create-room button`)
	tb.Do(chromedp.WaitVisible(chromedp.ID("composer")))
	path := tb.Eval(`location.pathname`)
	other.Do(chromedp.Navigate(other.URL + path))
	other.Submit(`.join-invite button`)
	other.Do(chromedp.WaitVisible(chromedp.ID("composer")))
	tb.WaitLive()
	other.WaitLive()
	return path
}

// lastMessage is the id of the newest message in the tab's log by author.
func lastID(tb e2e.Tab, text string) string {
	tb.T.Helper()
	tb.WaitFor("the message "+text, `[...document.querySelectorAll('.log li.msg .body')].some(b => b.textContent.includes(`+quote(text)+`))`)
	return tb.Eval(`[...document.querySelectorAll('.log li.msg')].filter(li => (li.querySelector('.body')||{}).textContent?.includes(` + quote(text) + `)).pop().id`)
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", `\'`) + "'" }

// Ann edits a typo in place, Bob reacts, replies and sees the edit; Ann
// deletes; each change shows in the other browser without a reload.
func TestEditReactReplyDelete(t *testing.T) {
	browser := browsertest.Start(t)
	s := e2e.Start(t)
	ann, bob := e2e.OpenTab(t, browser, s), e2e.OpenTab(t, browser, s)
	problems := browsertest.WatchConsole(bob.Ctx)
	ann.Signup("ann")
	bob.Signup("bob")
	room(ann, bob)

	ann.Send("helo wrld")
	id := lastID(bob, "helo wrld")

	// Edit in place: the toolbar's Edit on her own message.
	sel := "#" + id
	ann.Do(chromedp.Click(chromedp.CSS(sel + " .meta a.more")))
	ann.Do(chromedp.Click(chromedp.CSS(sel + ` .msg-tools button[data-act="edit"]`)))
	ann.Do(chromedp.WaitVisible(chromedp.CSS(sel + " .edit-form textarea")))
	ann.Do(chromedp.SetValue(chromedp.CSS(sel+" .edit-form textarea"), "hello world"))
	ann.Do(chromedp.Click(chromedp.CSS(sel + ` .edit-form button[type="submit"]`)))
	bob.WaitFor("the edit", `document.querySelector('`+sel+` .body').textContent.includes('hello world') && document.querySelector('`+sel+` .edited') !== null`)
	ann.WaitFor("the edit on her page", `!document.querySelector('`+sel+` .edit-form') && document.querySelector('`+sel+` .body').textContent.includes('hello world')`)

	// Bob's toolbar has no Edit or Delete on Ann's message; he reacts.
	bob.Do(chromedp.Click(chromedp.CSS(sel + " .meta a.more")))
	if vis := bob.Eval(`String(getComputedStyle(document.querySelector('` + sel + ` .msg-tools button[data-act="edit"]')).display)`); vis != "none" {
		t.Fatalf("bob sees Edit on ann's message (display %s)", vis)
	}
	bob.Do(chromedp.Click(chromedp.CSS(sel + ` .msg-tools button[data-emoji="🎉"]`)))
	ann.WaitFor("bob's reaction", `(document.querySelector('`+sel+` .rx .r[data-e="🎉"]')||{}).title === 'bob'`)
	bob.WaitFor("his own reaction marked", `document.querySelector('`+sel+` .rx .r.mine') !== null`)

	// Reply: the quote goes with the message and leads back to the original.
	bob.Do(chromedp.Click(chromedp.CSS(sel + ` .msg-tools button[data-act="reply"]`)))
	bob.WaitFor("the composer replying", `!document.getElementById('replying').hidden`)
	bob.Send("agreed")
	reply := lastID(ann, "agreed")
	ann.WaitFor("the reply's quote", `document.querySelector('#`+reply+` a.quote').textContent.includes('hello world')`)
	ann.Do(chromedp.Click(chromedp.CSS("#" + reply + " a.quote")))
	ann.WaitFor("the original highlighted", `document.querySelector('`+sel+`').classList.contains('flash')`)

	// Delete: the placeholder replaces it in both browsers, and the reply's
	// quote says so after a reload.
	ann.Do(chromedp.Click(chromedp.CSS(sel + " .meta a.more")))
	ann.Eval(`(window.confirm = () => true, "ok")`)
	ann.Do(chromedp.Click(chromedp.CSS(sel + ` .msg-tools button[data-act="delete"]`)))
	bob.WaitFor("the deletion", `document.querySelector('`+sel+`').classList.contains('deleted') && !document.querySelector('`+sel+`').textContent.includes('hello world')`)
	bob.Do(chromedp.Reload())
	bob.WaitFor("the quote of a deleted message", `document.querySelector('#`+reply+` a.quote').textContent.includes('Message deleted')`)
	browsertest.Screenshot(t, bob.Ctx, "changes")
	problems.Check(t, "bob")
}

// With JavaScript off, "⋯" opens the message's page: its forms edit,
// react and delete.
func TestMessagePageWithoutScript(t *testing.T) {
	s := e2e.Start(t)
	ann := e2e.OpenNoJS(t, s)
	ann.Submit("/signup", "Sign up", map[string]string{"username": "ann", "password": "password-ann"})
	ann.Submit("/rooms", "Create room", map[string]string{"name": "lobby"})
	m := regexp.MustCompile(`href="(/rooms/\d+)" class="room-name"`).FindStringSubmatch(ann.Source("/rooms"))
	if m == nil {
		t.Fatal("the lobby is not in ann's list")
	}
	path := m[1]
	ann.Submit(path, "Send", map[string]string{"body": "helo"})
	src := ann.Source(path)
	i := strings.Index(src, "/actions")
	if i < 0 {
		t.Fatalf("no message page link:\n%s", src)
	}
	page := src[strings.LastIndex(src[:i], `"`)+1 : i+len("/actions")]
	if out := ann.Submit(page, "Save", map[string]string{"body": "hello"}); !strings.Contains(out, "hello") || !strings.Contains(out, "edited") {
		t.Fatalf("after editing:\n%s", out)
	}
	if out := ann.Submit(page, "👍", nil); !strings.Contains(out, "👍 1") {
		t.Fatalf("after reacting:\n%s", out)
	}
	if out := ann.Submit(page, "Delete message", nil); !strings.Contains(out, "Message deleted") || strings.Contains(out, "hello") {
		t.Fatalf("after deleting:\n%s", out)
	}
}
