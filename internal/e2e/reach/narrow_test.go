package reach

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/rtmessenger/rtmessenger/internal/browsertest"
	"github.com/rtmessenger/rtmessenger/internal/e2e"
)

// navLinks are the links that must be in view on every page, by what a
// person looks for.
var navLinks = map[string]string{
	"account":       `.whoami a`,
	"Conversations": `a[href="/rooms#conversations-h"]`,
	"Announcements": `a[href="/announcements"]`,
	"People":        `a[href="/people"]`,
}

// layoutJS measures the page as a person on a narrow screen first meets
// it. reach tells whether an element is shown, inside the viewport and
// the topmost thing at its centre, so that a tap lands on it. Sticking
// out are the elements past the right edge that no ancestor clips or
// scrolls: what widens the page.
const layoutJS = `(() => {
  const root = document.documentElement, vw = root.clientWidth, vh = innerHeight;
  const reach = (el) => {
    if (!el) return 'missing';
    const r = el.getBoundingClientRect();
    if (!el.checkVisibility({ visibilityProperty: true, opacityProperty: true }) || r.width < 1 || r.height < 1) return 'hidden';
    if (r.left < -0.5 || r.top < -0.5 || r.right > vw + 0.5 || r.bottom > vh + 0.5) return 'outside the viewport at ' + [r.left, r.top, r.right, r.bottom].map(Math.round).join(',');
    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    return hit && el.contains(hit) ? 'ok' : 'covered by ' + (hit ? hit.outerHTML.slice(0, 80) : 'nothing');
  };
  // An ancestor's overflow clips an element only from the element's
  // containing block up: absolute text escapes a static ancestor's.
  const clipped = (el) => {
    let pos = getComputedStyle(el).position;
    for (let a = el.parentElement; a && a !== document.body && pos !== 'fixed'; a = a.parentElement) {
      const style = getComputedStyle(a);
      if (pos === 'absolute' && style.position === 'static') continue;
      if (style.overflowX !== 'visible') return true;
      pos = style.position;
    }
    return false;
  };
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.classList.length ? '.' + [...el.classList].join('.') : '');
  const dot = getComputedStyle(document.querySelector('.whoami'), '::before');
  const out = {
    scrollWidth: root.scrollWidth, clientWidth: vw,
    stickingOut: [...document.querySelectorAll('body *')]
      .filter((el) => el.getBoundingClientRect().right > vw + 0.5 && !clipped(el))
      .map((el) => name(el) + ' to ' + Math.round(el.getBoundingClientRect().right)).slice(0, 6),
    nav: Object.fromEntries(Object.entries(NAV).map(([k, sel]) => [k, reach(document.querySelector(sel))])),
    stream: root.dataset.stream || '',
    dot: dot.content !== 'none' && dot.display !== 'none' && parseFloat(dot.width) > 0,
    lists: {},
  };
  // Each room and conversation in the sidebar, scrolled to within its list.
  for (const a of document.querySelectorAll('.sidebar li a')) {
    a.scrollIntoView({ block: 'nearest', inline: 'nearest' });
    out.lists[a.textContent.trim()] = reach(a);
  }
  out.pageScrolledSideways = scrollX !== 0;
  const composer = document.getElementById('body'), log = document.querySelector('.scroller');
  if (composer) out.composer = reach(composer);
  if (log) out.logHeight = Math.round(log.getBoundingClientRect().height);
  return JSON.stringify(out);
})()`

type layout struct {
	ScrollWidth          int               `json:"scrollWidth"`
	ClientWidth          int               `json:"clientWidth"`
	StickingOut          []string          `json:"stickingOut"`
	Nav                  map[string]string `json:"nav"`
	Stream               string            `json:"stream"`
	Dot                  bool              `json:"dot"`
	Lists                map[string]string `json:"lists"`
	PageScrolledSideways bool              `json:"pageScrolledSideways"`
	Composer             string            `json:"composer"`
	LogHeight            int               `json:"logHeight"`
}

// On phones (320 and 375 px wide) and a tablet (768 px), the pages a
// person moves between fit the width: nothing scrolls sideways (the
// screen-reader text in the sidebar once made a 320 px page 693 px wide),
// the account link with its connection dot and the links to
// conversations, announcements and people are in view and tappable, and
// every room and conversation in the sidebar can be scrolled to and
// tapped. In a room the composer is in view above a log that still shows
// messages.
func TestNarrowScreens(t *testing.T) {
	browser := browsertest.Start(t)
	s := e2e.Start(t)
	anna, ben := e2e.OpenTab(t, browser, s), e2e.OpenTab(t, browser, s)
	problems := browsertest.WatchConsole(anna.Ctx)
	// The first account, an admin with one link more, and a name as long
	// as names go: the top bar cuts it short to keep the rest in view.
	anna.Signup("anna.has.the.longest.user.name")
	for _, name := range []string{"lobby", "a-room-with-a-name-longer-than-a-phone-is-wide", "random"} {
		anna.Do(chromedp.Navigate(s.URL+"/rooms"), chromedp.SetValue(chromedp.ID("room-name"), name))
		anna.Submit(`.create-room button`)
	}
	lobby, random := anna.RoomPath("lobby"), anna.RoomPath("random")
	ben.Signup("ben")
	for _, room := range []string{lobby, random} {
		ben.Do(chromedp.Navigate(s.URL + room))
		ben.Submit(`.join-invite button`)
	}
	anna.Do(chromedp.Navigate(s.URL+"/rooms"), chromedp.SetValue(chromedp.ID("dm-with"), "ben"))
	anna.Submit(`.start-conversation button`)
	dm := anna.Eval(`location.pathname`)
	// Counts that stay: anna never opens random. Their screen-reader
	// words, the conversation's presence label and the long name are what
	// once stuck out of the sidebar.
	ben.Do(chromedp.Navigate(s.URL + random))
	ben.WaitLive()
	// The name first: with the caret still on it, Enter would pick it from
	// the suggestions (if they came in time) instead of sending.
	ben.Send("@anna.has.the.longest.user.name are you there")
	ben.WaitFor("the message sent", e2e.LogText+`.includes('are you there')`)

	nav, err := json.Marshal(navLinks)
	if err != nil {
		t.Fatal(err)
	}
	if dir := os.Getenv("RTM_SCREENSHOTS"); dir != "" {
		t.Logf("screenshots in %s (narrow-*.png)", dir)
	}
	pages := []struct{ name, path string }{
		{"room", lobby}, {"conversation", dm}, {"rooms", "/rooms"}, {"announcements", "/announcements"}, {"people", "/people"},
	}
	for _, screen := range []struct{ width, height int64 }{{320, 568}, {375, 667}, {768, 1024}} {
		params := emulation.SetDeviceMetricsOverrideParams{Width: screen.width, Height: screen.height, DeviceScaleFactor: 1, Mobile: screen.width <= 720}
		if _, err := chromedp.Call(anna.Ctx, emulation.SetDeviceMetricsOverride, params); err != nil {
			t.Fatal(err)
		}
		for _, p := range pages {
			where := fmt.Sprintf("%s at %d px", p.name, screen.width)
			anna.Do(chromedp.Navigate(s.URL + p.path))
			anna.WaitLive()
			browsertest.Screenshot(t, anna.Ctx, fmt.Sprintf("narrow-%s-%d", p.name, screen.width))
			var got layout
			if err := json.Unmarshal([]byte(anna.Eval(`(() => { const NAV = `+string(nav)+`; return `+layoutJS+` })()`)), &got); err != nil {
				t.Fatal(err)
			}
			if got.ScrollWidth > got.ClientWidth || got.PageScrolledSideways {
				t.Errorf("%s: the page scrolls sideways: %d px wide in %d; sticking out: %v", where, got.ScrollWidth, got.ClientWidth, got.StickingOut)
			}
			for _, link := range slices.Sorted(maps.Keys(navLinks)) {
				if state := got.Nav[link]; state != "ok" {
					t.Errorf("%s: the %s link is %s", where, link, state)
				}
			}
			if got.Stream != "live" || !got.Dot {
				t.Errorf("%s: the connection state is not shown: stream %q, dot shown %v", where, got.Stream, got.Dot)
			}
			if len(got.Lists) != 4 { // three rooms and the conversation
				t.Errorf("%s: the sidebar lists %v, want three rooms and a conversation", where, got.Lists)
			}
			for _, room := range slices.Sorted(maps.Keys(got.Lists)) {
				if state := got.Lists[room]; state != "ok" {
					t.Errorf("%s: %q in the sidebar is %s when scrolled to", where, room, state)
				}
			}
			if p.path == lobby || p.path == dm {
				if got.Composer != "ok" || got.LogHeight < 100 {
					t.Errorf("%s: the composer is %s and the log %d px tall", where, got.Composer, got.LogHeight)
				}
			}
		}
	}
	problems.Check(t, "anna")
}
