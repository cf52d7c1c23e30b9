// Package comfort holds browser tests of how a room's log reads: names,
// groups, day lines and times in the reader's zone.
package comfort

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/rtmessenger/rtmessenger/internal/browsertest"
	"github.com/rtmessenger/rtmessenger/internal/e2e"
)

func TestMain(m *testing.M) { e2e.Main(m) }

// msg is JavaScript for the log's message whose text is body.
func msg(body string) string {
	return `[...document.querySelectorAll('ol.log > li.msg')].find(li => li.querySelector('.body')?.textContent === '` + body + `')`
}

// Bob, shown as "Bob Builder", writes to Ann, who reads in Tokyo time.
// Messages with known times cross midnight in Tokyo (not in UTC): the page
// puts Tokyo's day line between them and shows Tokyo's clock. Live messages
// from Bob group under one name after a day line the page adds itself, and
// stay grouped when a replay replaces one.
func TestReadingComfort(t *testing.T) {
	browser := browsertest.Start(t)
	s := e2e.Start(t)
	ann := e2e.OpenTab(t, browser, s)
	bob := e2e.OpenTab(t, browser, s)
	annProblems, bobProblems := browsertest.WatchConsole(ann.Ctx), browsertest.WatchConsole(bob.Ctx)

	ann.Signup("ann")
	setDetail(ann, "ann", "profile-timezone", "Asia/Tokyo")
	ann.Do(chromedp.Navigate(s.URL + "/rooms"))
	ann.Do(chromedp.SetValue(chromedp.ID("room-name"), "comfort"))
	ann.Submit(`.create-room button`)
	room := ann.Eval(`location.pathname`)

	bob.Signup("bob")
	setDetail(bob, "bob", "profile-display_name", "Bob Builder")
	bob.Do(chromedp.Navigate(s.URL + room))
	bob.Submit(`.join-invite button`)

	// 23:50 and 23:52 on 1 March in Tokyo, then 00:01 on 2 March: all on
	// 1 March in UTC.
	at := func(hh, mm int) time.Time { return time.Date(2020, 3, 1, hh, mm, 0, 0, time.UTC) }
	e2e.PostAt(t, s.DB, "bob", "comfort", at(14, 50), "first")
	e2e.PostAt(t, s.DB, "bob", "comfort", at(14, 52), "second")
	e2e.PostAt(t, s.DB, "bob", "comfort", at(15, 1), "after midnight")

	ann.Do(chromedp.Navigate(s.URL + room))
	ann.WaitLive()
	if got := ann.Eval(`document.documentElement.dataset.tz`); got != "Asia/Tokyo" {
		t.Fatalf("the page's zone is %q", got)
	}
	clock := ann.Eval(msg("first") + `.querySelector('time').textContent`)
	if !regexp.MustCompile(`^(23:50|11:50\sPM)$`).MatchString(clock) {
		t.Errorf("the first message shows %q, want Tokyo's 23:50", clock)
	}
	name := msg("first") + `.querySelector('.author')`
	if got := ann.Eval(name + `.textContent + ' ' + ` + name + `.title`); got != "Bob Builder @bob" {
		t.Errorf("the author reads %q, want the display name and @bob on hover", got)
	}
	if got := ann.Eval(`String(` + msg("second") + `.matches('.cont'))`); got != "true" {
		t.Error("the second message two minutes later is not grouped with the first")
	}
	line := msg("after midnight") + `.previousElementSibling`
	if got := ann.Eval(line + `.dataset.day + ' ' + ` + msg("after midnight") + `.matches('.cont')`); got != "2020-03-02 false" {
		t.Errorf("before Tokyo's midnight message: day line and grouped %q, want 2020-03-02 false", got)
	}

	// Live: two messages from Bob, after a day line for today.
	bob.Do(chromedp.Navigate(s.URL + room))
	bob.WaitLive()
	bob.Send("live one")
	bob.WaitFor("the first sent", msg("live one"))
	bob.Send("live two")
	ann.WaitFor("both live messages", msg("live two")+` && `+msg("live one"))
	ann.WaitFor("the second grouped under the first", msg("live two")+`.matches('.cont') && !`+msg("live one")+`.matches('.cont')`)
	if got := ann.Eval(`String(` + msg("live one") + `.previousElementSibling.matches('li.day:not([data-day="2020-03-02"])'))`); got != "true" {
		t.Errorf("no day line for today before the live message: %s", ann.Eval(`document.querySelector('ol.log').innerHTML`))
	}
	if got := ann.Eval(msg("live two") + `.querySelector('time').textContent`); regexp.MustCompile(`UTC`).MatchString(got) {
		t.Errorf("a live message's time reads %q, not in the reader's zone", got)
	}
	if got := ann.Eval(`String(` + msg("live two") + `.querySelector('.author').getBoundingClientRect().width)`); got != "1" {
		t.Errorf("the grouped message's name is %s px wide, want hidden but readable (1)", got)
	}

	// A replay replaces the message by id: it is grouped again, and no
	// line is added twice.
	ann.Eval(`(() => { const li = ` + msg("live two") + `, copy = li.cloneNode(true); copy.classList.remove('cont'); li.replaceWith(copy); return '' })()`)
	ann.WaitFor("the replaced message grouped again", msg("live two")+`.matches('.cont')`)
	// Today's (the join lines), 1 and 2 March 2020, today's again.
	if got := ann.Eval(`String(document.querySelectorAll('ol.log > li.day').length)`); got != "4" {
		t.Errorf("%s day lines, want 4", got)
	}

	ann.ScreenshotWhole("comfort-1280", 1280)
	ann.ScreenshotWhole("comfort-320", 320)

	// A grouped message shows its time while the pointer is on it.
	shown := `getComputedStyle(` + msg("live two") + `.querySelector('time')).opacity`
	if got := ann.Eval(shown); got != "0" {
		t.Errorf("a grouped message's time shows (opacity %s) without a pointer on it", got)
	}
	hover(ann, msg("live two"))
	ann.WaitFor("the time on hover", shown+` === '1'`)
	browsertest.Screenshot(t, ann.Ctx, "comfort-hover")
	annProblems.Check(t, "ann")
	bobProblems.Check(t, "bob")
}

// hover moves the pointer onto the middle of the element el finds.
func hover(tb e2e.Tab, el string) {
	tb.T.Helper()
	xy := strings.Fields(tb.Eval(`(() => { const r = ` + el + `.getBoundingClientRect(); return (r.x + r.width / 2) + ' ' + (r.y + r.height / 2) })()`))
	x, errX := strconv.ParseFloat(xy[0], 64)
	y, errY := strconv.ParseFloat(xy[1], 64)
	if errX != nil || errY != nil {
		tb.T.Fatalf("no place to hover: %v", xy)
	}
	tb.Do(chromedp.Func(func(ctx context.Context, target *chromedp.Target) error {
		_, err := cdp.Call(ctx, target, input.DispatchMouseEvent, input.DispatchMouseEventParams{Type: input.DispatchMouseEventTypeMouseMoved, X: x, Y: y})
		return err
	}))
}

// setDetail saves one field of a person's details through the form.
func setDetail(tb e2e.Tab, user, field, value string) {
	tb.T.Helper()
	tb.Do(chromedp.Navigate(tb.URL+"/people/"+user), chromedp.SetValue(chromedp.ID(field), value))
	tb.Submit(`.profile-form button[type=submit]`)
	tb.WaitFor("the saved notice", `document.getElementById('saved')?.textContent.trim() === 'Details saved.'`)
}
