package links

import (
	"net/http"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/rtmessenger/rtmessenger/internal/browsertest"
	"github.com/rtmessenger/rtmessenger/internal/e2e"
)

const (
	composerText  = `document.getElementById('body').value`
	composerID    = `document.querySelector('#composer input[name=client_id]').value`
	composerError = `((document.querySelector('#composer p.error') || {}).textContent || '')`
)

// copies counts a text's messages in the open room's log.
func copies(tb e2e.Tab, text string) string {
	return tb.Eval(`String([...document.querySelectorAll('ol.log li .body')].filter(b => b.textContent === '` + text + `').length)`)
}

// A message sent while the server is down is not lost: it stays in the
// composer, which says it was not sent, with the same client_id; sent
// again once the server is back, it is stored once. On a WebSocket page
// the post would go over the socket, which is closed: it is not queued
// out of sight in the page, but kept in the composer the same way.
func TestPostWhileTheServerIsDownIsKeptAndSentOnce(t *testing.T) {
	for _, c := range []struct{ transport, says string }{
		{"sse", "No answer: it may not have been sent."},
		{"ws", "Not sent: not connected."},
	} {
		t.Run(c.transport, func(t *testing.T) { testPostWhileDown(t, c.transport, c.says) })
	}
}

func testPostWhileDown(t *testing.T, transport, says string) {
	browser := browsertest.Start(t)
	s := e2e.Start(t)
	anna := e2e.OpenTab(t, browser, s)
	openRoom(anna, "anna", "lobby")
	room := anna.Eval(`location.pathname`)
	if transport == "ws" {
		anna.Submit(`.transport button`)
		anna.WaitFor("a live socket", `document.getElementById('socket') && document.documentElement.dataset.stream === 'live'`)
	}
	id := anna.Eval(composerID)

	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	anna.WaitFor("offline", `document.documentElement.dataset.stream === 'offline'`)
	anna.Send("written while the server was down")
	anna.WaitFor("the composer saying it was not sent", composerError+`.startsWith('`+says+`')`)
	browsertest.Screenshot(t, anna.Ctx, "not-sent-"+transport)
	if got := anna.Eval(composerText); got != "written while the server was down" {
		t.Fatalf("the composer holds %q", got)
	}
	if got := anna.Eval(composerID); got != id {
		t.Fatalf("the client_id changed from %q to %q: a resend could be stored twice", id, got)
	}
	if got := anna.Eval(`document.getElementById('body').getAttribute('aria-invalid')`); got != "true" {
		t.Errorf("the box is not marked with its error: %q", got)
	}

	s.Restart()
	anna.WaitFor("live again", `document.documentElement.dataset.stream === 'live'`)
	anna.Do(chromedp.Click(chromedp.CSS(`#composer button[type=submit]`)))
	anna.WaitFor("the message, and a fresh composer", e2e.LogText+`.includes('written while the server was down') && `+composerText+` === '' && `+composerError+` === ''`)
	anna.Do(chromedp.Navigate(s.URL+room), chromedp.WaitVisible(chromedp.ID("composer")))
	if n := copies(anna, "written while the server was down"); n != "1" {
		t.Fatalf("stored %s times, want once", n)
	}
}

// A post whose answer is lost (stored, but the link dropped before the
// answer came) stays in the composer, which says the outcome is unknown;
// sending it again stores nothing twice. A proxy's error page in answer
// (the server down behind it) is no composer: the text stays too.
func TestPostWhoseAnswerIsLostIsStoredOnce(t *testing.T) {
	browser := browsertest.Start(t)
	s := e2e.Start(t)
	link := e2e.StartLink(t, s)
	anna := e2e.OpenTab(t, browser, link.Server())
	problems := browsertest.WatchConsole(anna.Ctx)
	openRoom(anna, "anna", "lobby")
	room := anna.Eval(`location.pathname`)

	link.LoseAnswers(room + "/messages")
	anna.Send("did this arrive")
	if status := link.LostAnswer(); status != http.StatusOK {
		t.Fatalf("the server answered the post %d", status)
	}
	anna.WaitFor("the composer saying the outcome is unknown", composerError+`.startsWith('No answer: it may not have been sent.')`)
	link.KeepAnswers()
	anna.WaitFor("the message, over the stream", e2e.LogText+`.includes('did this arrive')`)
	if got := anna.Eval(composerText); got != "did this arrive" {
		t.Fatalf("the composer holds %q", got)
	}
	anna.Do(chromedp.Click(chromedp.CSS(`#composer button[type=submit]`)))
	anna.WaitFor("a fresh composer", composerText+` === '' && `+composerError+` === ''`)
	anna.Do(chromedp.Navigate(link.URL+room), chromedp.WaitVisible(chromedp.ID("composer")))
	if n := copies(anna, "did this arrive"); n != "1" {
		t.Fatalf("stored %s times, want once", n)
	}

	// The server down behind the link: the link answers 502 itself, as
	// a proxy in front of the app would.
	anna.WaitLive()
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	anna.Send("sent to a proxy")
	anna.WaitFor("the composer naming the error", composerError+`.startsWith('Not sent: server error 502.')`)
	if got := anna.Eval(composerText); got != "sent to a proxy" {
		t.Fatalf("the composer holds %q", got)
	}
	s.Restart()
	anna.WaitFor("live again", `document.documentElement.dataset.stream === 'live'`)
	anna.Do(chromedp.Click(chromedp.CSS(`#composer button[type=submit]`)))
	anna.WaitFor("the message, and a fresh composer", e2e.LogText+`.includes('sent to a proxy') && `+composerText+` === ''`)
	// The failures this test made happen, and nothing else.
	problems.Check(t, "the console", "Failed to load resource", "Failed to fetch", "net::ERR_", "502")
}
