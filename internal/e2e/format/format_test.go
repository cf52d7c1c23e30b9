package format

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/rtmessenger/rtmessenger/internal/browsertest"
	"github.com/rtmessenger/rtmessenger/internal/e2e"
)

const formatted = "@ben the fix is in https://example.com/pull/1234, see `handlers/rooms.go`: *really* **small**.\n" +
	"> does it keep the _old_ order?\n" +
	"```go\nfor i, m := range msgs { // a line long enough to scroll sideways on a phone, and then some more\n\tsend(i, m)\n}\n```\n" +
	"Details: https://example.com/a/rather/long/address/that/goes/on/and/on/to/be/shortened?with=query"

// What the reader's browser finds in the message's body: each construct,
// and the link's attributes.
const shown = `(() => {
  const b = [...document.querySelectorAll('ol.log li.msg .body')].pop();
  const a = b.querySelectorAll('a');
  return JSON.stringify({
    links: [...a].map(x => [x.getAttribute('href'), x.rel, x.target, x.textContent, x.title]),
    code: [...b.querySelectorAll(':scope > code')].map(x => x.textContent),
    em: [...b.querySelectorAll('em')].map(x => x.textContent),
    strong: [...b.querySelectorAll('strong')].map(x => x.textContent),
    quote: [...b.querySelectorAll('blockquote')].map(x => x.textContent),
    pre: [...b.querySelectorAll('pre > code.language-go')].map(x => x.textContent),
    mention: [...b.querySelectorAll('span.mention')].map(x => x.textContent),
  });
})()`

type body struct {
	Links                                 [][]string
	Code, Em, Strong, Quote, Pre, Mention []string
}

// A formatted message shows its link, code, emphasis, quote and code block
// to another member live and after a reload, the same markup both ways;
// the link opens in a new tab and tells the site nothing; a long code line
// scrolls inside its block, even on a phone.
func TestFormattedMessage(t *testing.T) {
	browser := browsertest.Start(t)
	s := e2e.Start(t)
	anna, ben := e2e.OpenTab(t, browser, s), e2e.OpenTab(t, browser, s)
	browsertest.Guard(t, ben.Ctx)
	anna.Signup("anna")
	anna.Do(chromedp.SetValue(chromedp.ID("room-name"), "format"))
	anna.Submit(`.create-room button`)
	anna.WaitLive()
	room := anna.Eval(`location.pathname`)
	ben.Signup("ben")
	ben.Do(chromedp.Navigate(s.URL+room), chromedp.Click(chromedp.CSS(`.join-invite button`)), chromedp.WaitVisible(chromedp.ID("composer")))
	ben.WaitLive()

	js, _ := json.Marshal(formatted)
	anna.Eval(`document.getElementById('body').value = ` + string(js) + `, 'set'`)
	anna.Do(chromedp.Click(chromedp.CSS(`#composer button`)))
	ben.WaitFor("the formatted message", `document.querySelector('ol.log li.msg .body pre')`)
	live := ben.Eval(`[...document.querySelectorAll('ol.log li.msg .body')].pop().innerHTML`)

	var got body
	if err := json.Unmarshal([]byte(ben.Eval(shown)), &got); err != nil {
		t.Fatal(err)
	}
	long := "https://example.com/a/rather/long/address/that/goes/on/and/on/to/be/shortened?with=query"
	want := body{
		Links: [][]string{
			{"https://example.com/pull/1234", "noopener nofollow ugc", "_blank", "https://example.com/pull/1234", ""},
			{long, "noopener nofollow ugc", "_blank", "example.com/a/rather/long/address/that/g…", long},
		},
		Code:    []string{"handlers/rooms.go"},
		Em:      []string{"really", "old"},
		Strong:  []string{"small"},
		Quote:   []string{"does it keep the old order?"},
		Pre:     []string{"for i, m := range msgs { // a line long enough to scroll sideways on a phone, and then some more\n\tsend(i, m)\n}"},
		Mention: []string{"@ben"},
	}
	if g, w := mustJSON(got), mustJSON(want); g != w {
		t.Errorf("ben sees\n%s\nwant\n%s", g, w)
	}

	ben.Do(chromedp.Navigate(s.URL + room))
	ben.WaitFor("the message after a reload", `document.querySelector('ol.log li.msg .body pre')`)
	if history := ben.Eval(`[...document.querySelectorAll('ol.log li.msg .body')].pop().innerHTML`); history != live {
		t.Errorf("history renders\n%s\nlive\n%s", history, live)
	}
	ben.ScreenshotWhole("format-1280", 1280)

	// At a phone's width the page does not scroll sideways; the code does.
	ben.ScreenshotWhole("format-320", 320)
	ben.Do(chromedp.EmulateViewport(320, 640))
	ben.WaitFor("a 320 px layout", `document.documentElement.clientWidth === 320`)
	if fits := ben.Eval(`(() => { const p = document.querySelector('ol.log .body pre');
	  return String(document.documentElement.scrollWidth <= 320 && p.scrollWidth > p.clientWidth && p.getBoundingClientRect().right <= 320); })()`); fits != "true" {
		t.Errorf("at 320 px the page is %s px wide, the code block %s", ben.Eval(`String(document.documentElement.scrollWidth)`),
			ben.Eval(`(() => { const p = document.querySelector('ol.log .body pre'); return p.clientWidth + ' of ' + p.scrollWidth + ', right edge ' + p.getBoundingClientRect().right; })()`))
	}
	browsertest.CheckGuard(t, ben.Ctx, "formatted message")
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// With JavaScript off (w3m) a formatted message is posted through the
// plain form and comes back as the same markup: it is all the server's.
func TestFormattingWithoutJavaScript(t *testing.T) {
	s := e2e.Start(t)
	anna := e2e.OpenNoJS(t, s)
	anna.Submit("/signup", "Sign up", map[string]string{"username": "anna", "password": "password-anna"})
	anna.Submit("/rooms", "Create room", map[string]string{"name": "plain"})
	m := regexp.MustCompile(`href="(/rooms/\d+)" class="room-name"># <bdi>plain</bdi>`).FindStringSubmatch(anna.Source("/rooms"))
	if m == nil {
		t.Fatal("the room is not in anna's list")
	}
	anna.Submit(m[1], "Send", map[string]string{"body": "see https://example.com/x. `code` *em*\n> quoted"})
	src := anna.Source(m[1])
	for _, want := range []string{
		`see <a href="https://example.com/x" rel="noopener nofollow ugc" target="_blank">https://example.com/x</a>. <code>code</code> <em>em</em><blockquote>quoted</blockquote></div>`,
	} {
		if !strings.Contains(src, want) {
			t.Errorf("the room's page lacks %s", want)
		}
	}
	if dump := anna.Dump(m[1]); !strings.Contains(dump, "see https://example.com/x. code em") {
		t.Errorf("w3m shows:\n%s", dump)
	}
}
