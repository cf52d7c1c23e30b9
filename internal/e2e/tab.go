package e2e

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/rtmessenger/rtmessenger/internal/browsertest"
)

// waitLimit bounds each step and each wait in a tab. Generous on purpose:
// a passing test never waits it out, and a machine busy with other tests
// can take seconds to load a page.
const waitLimit = 30 * time.Second

// LogText is JavaScript for the visible text of the open room's log.
const LogText = `document.querySelector('ol.log').innerText`

// Tab is one browser tab on the server under test, with the steps the
// tests repeat. Steps fail the test, with where the tab was, on error.
type Tab struct {
	T   *testing.T
	Ctx context.Context
	URL string // the server's base URL
}

// OpenTab opens a tab in a fresh browser profile (own cookies), as a
// different person would.
func OpenTab(t *testing.T, browser context.Context, s *Server) Tab {
	t.Helper()
	return Tab{T: t, Ctx: browsertest.User(t, browser), URL: s.URL}
}

// SameProfile opens another tab beside tb, sharing its cookies: the same
// person with a second tab.
func (tb Tab) SameProfile() Tab {
	tb.T.Helper()
	ctx, cancel := chromedp.NewContext(tb.Ctx)
	tb.T.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		tb.T.Fatal(err)
	}
	return Tab{T: tb.T, Ctx: ctx, URL: tb.URL}
}

// Do runs actions, failing the test if they do not finish in time.
func (tb Tab) Do(actions ...chromedp.Action[chromedp.Void]) {
	tb.T.Helper()
	ctx, cancel := context.WithTimeout(tb.Ctx, waitLimit)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		tb.T.Fatalf("%v\n%s", err, tb.Describe())
	}
}

// Describe tells where the tab is, for failure messages.
func (tb Tab) Describe() string {
	ctx, cancel := context.WithTimeout(tb.Ctx, waitLimit)
	defer cancel()
	where, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + '\n' + document.body.innerText.slice(0, 600)`))
	if err != nil {
		return "(page unreadable: " + err.Error() + ")"
	}
	return "page: " + where
}

// Submit clicks a button that posts a plain form (or a link) and waits
// for the page the server answers with.
func (tb Tab) Submit(button string) {
	tb.T.Helper()
	ctx, cancel := context.WithTimeout(tb.Ctx, waitLimit)
	defer cancel()
	if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(button))); err != nil {
		tb.T.Fatalf("submit %s: %v\n%s", button, err, tb.Describe())
	}
}

// Send types text into the composer and presses Enter, which sends it.
// Enter goes as a bare key-down, as a person's key press reaches the page:
// the page cancels it, so no line break follows. (Typing "\n" would also
// dispatch a separate character event, which can land in the fresh
// composer that a quick answer has already put in place.)
func (tb Tab) Send(text string) {
	tb.T.Helper()
	enter := func(typ input.DispatchKeyEventType) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, input.DispatchKeyEvent, input.DispatchKeyEventParams{
				Type: typ, Key: "Enter", Code: "Enter", WindowsVirtualKeyCode: 13, NativeVirtualKeyCode: 13,
			})
			return err
		})
	}
	tb.Do(chromedp.SendKeys(chromedp.ID("body"), text), enter(input.DispatchKeyEventTypeRawKeyDown), enter(input.DispatchKeyEventTypeKeyUp))
}

// Eval returns the string a JavaScript expression evaluates to.
func (tb Tab) Eval(js string) string {
	tb.T.Helper()
	ctx, cancel := context.WithTimeout(tb.Ctx, waitLimit)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
	if err != nil {
		tb.T.Fatalf("eval %s: %v", js, err)
	}
	return v
}

// WaitFor polls a JavaScript condition until it holds, and fails the test
// naming what after waitLimit. Errors while the page navigates count as
// "not yet".
func (tb Tab) WaitFor(what, js string) {
	tb.T.Helper()
	deadline := time.Now().Add(waitLimit)
	var lastErr error
	for time.Now().Before(deadline) {
		ok, err := chromedp.Run(tb.Ctx, chromedp.Evaluate[bool]("Boolean("+js+")"))
		if err == nil && ok {
			return
		}
		lastErr = err
		time.Sleep(50 * time.Millisecond) // the polling interval, not a wait for something
	}
	tb.T.Fatalf("waiting for %s: not there after %v (last error: %v)\n%s", what, waitLimit, lastErr, tb.Describe())
}

// Signup creates an account through the form and waits for the stream.
func (tb Tab) Signup(name string) {
	tb.T.Helper()
	tb.SignupForm(name)
	tb.WaitLive()
}

// SignupForm creates an account through the form (password
// "password-"+name) and waits for the rooms page, not for its stream.
func (tb Tab) SignupForm(name string) {
	tb.T.Helper()
	tb.Do(
		chromedp.Navigate(tb.URL+"/signup"),
		chromedp.SendKeys(chromedp.ID("username"), name),
		chromedp.SendKeys(chromedp.ID("password"), "password-"+name),
		chromedp.Click(chromedp.CSS(`form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("create-h")),
	)
}

// CreateRoom makes a room from the rooms page and returns its path; the
// tab is left on the room.
func (tb Tab) CreateRoom(name string) string {
	tb.T.Helper()
	tb.Do(chromedp.Navigate(tb.URL + "/rooms"))
	tb.Do(chromedp.SetValue(chromedp.ID("room-name"), name))
	tb.Submit(`.create-room button`)
	tb.Do(chromedp.WaitVisible(chromedp.ID("composer")))
	return tb.Eval(`location.pathname`)
}

// Join opens a room and joins it.
func (tb Tab) Join(room string) {
	tb.T.Helper()
	tb.Do(chromedp.Navigate(tb.URL + room))
	tb.Submit(`.join-invite button`)
	tb.Do(chromedp.WaitVisible(chromedp.ID("composer")))
}

// WaitLive waits until the page's event stream is connected.
func (tb Tab) WaitLive() {
	tb.T.Helper()
	tb.WaitFor("a live stream", `document.documentElement.dataset.stream === 'live'`)
}

// RoomPath finds a room's address in the sidebar.
func (tb Tab) RoomPath(name string) string {
	tb.T.Helper()
	return tb.Eval(`[...document.querySelectorAll('.sidebar a')].find(a => a.textContent.startsWith('# ` + name + `')).getAttribute('href')`)
}

// ScreenshotWhole saves a screenshot of the page at the given width and as
// tall as its scrolling panel, so nothing below the fold is left out. Like
// browsertest.Screenshot, it does nothing unless $RTM_SCREENSHOTS is set.
func (tb Tab) ScreenshotWhole(name string, width int64) {
	tb.T.Helper()
	if os.Getenv("RTM_SCREENSHOTS") == "" {
		return
	}
	resize := func(height int64) {
		tb.T.Helper()
		params := emulation.SetDeviceMetricsOverrideParams{Width: width, Height: height, DeviceScaleFactor: 1, Mobile: width <= 720}
		if _, err := chromedp.Call(tb.Ctx, emulation.SetDeviceMetricsOverride, params); err != nil {
			tb.T.Fatal(err)
		}
	}
	resize(800)
	tall := tb.Eval(`String(Math.ceil(Math.max(800, document.querySelector('main').getBoundingClientRect().top + document.querySelector('main').scrollHeight)))`)
	height, err := strconv.ParseInt(tall, 10, 64)
	if err != nil {
		tb.T.Fatal(err)
	}
	resize(height)
	browsertest.Screenshot(tb.T, tb.Ctx, name)
	if _, err := chromedp.Call(tb.Ctx, emulation.ClearDeviceMetricsOverride, cdp.Empty{}); err != nil {
		tb.T.Fatal(err)
	}
}
