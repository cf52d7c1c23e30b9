package budget

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/rtmessenger/rtmessenger/internal/browsertest"
	"github.com/rtmessenger/rtmessenger/internal/e2e"
)

// A compressed stream longer than the decoder's 32 KB window stays whole
// in Chromium: each message, written as copies from the one before it at
// the stream's own distances, decodes to its text. (The primer's renewal
// is proven against Go's decoder in hub: here messages copy from each
// other, so little reaches back to the primer.)
func TestALongCompressedStreamStaysWhole(t *testing.T) {
	browser := browsertest.Start(t)
	s := e2e.Start(t)
	ann, ben := e2e.OpenTab(t, browser, s), e2e.OpenTab(t, browser, s)
	ann.Signup("ann")
	general := createRoom(ann, "general")
	ben.Signup("ben")
	ben.Do(chromedp.Navigate(s.URL+general), chromedp.Click(chromedp.CSS(`.join-invite button`)), chromedp.WaitVisible(chromedp.ID("composer")))
	ann.Do(chromedp.Navigate(s.URL + general))
	ann.WaitLive()

	// Twenty messages of 2,500 characters (the post burst allows twenty at
	// once): about 60 KB of stream, nearly twice the window.
	texts := longTexts(20, 2500)
	postAtOnce(ben, texts)
	wantBodies(ann, texts)
}

// postAtOnce posts texts from tb's room page as fast as fetch goes.
func postAtOnce(tb e2e.Tab, texts []string) {
	tb.T.Helper()
	list, _ := json.Marshal(texts)
	tb.Eval(fmt.Sprintf(`(async (texts) => {
		const url = document.getElementById('composer').getAttribute('hx-post');
		window.posted = 0;
		for (const [i, body] of texts.entries()) {
			const r = await fetch(url, {method: 'POST', headers: {'HX-Request': 'true'}, body: new URLSearchParams({body, client_id: 'long-' + i})});
			if (!r.ok) { window.posted = 'post ' + i + ' failed: ' + r.status; return; }
			window.posted++;
		}
	})(%s), 'posting'`, list))
	tb.WaitFor("the posts answered", fmt.Sprintf(`window.posted === %d`, len(texts)))
}

// wantBodies waits for tb's log to hold exactly texts.
func wantBodies(tb e2e.Tab, texts []string) {
	tb.T.Helper()
	bodies := `[...document.querySelectorAll('ol.log li.msg .body')].map(e => e.textContent)`
	tb.WaitFor("every message on the stream", fmt.Sprintf(`%s.length === %d`, bodies, len(texts)))
	var got []string
	if err := json.Unmarshal([]byte(tb.Eval(`JSON.stringify(`+bodies+`)`)), &got); err != nil {
		tb.T.Fatal(err)
	}
	if !slices.Equal(got, texts) {
		for i := range min(len(got), len(texts)) {
			if got[i] != texts[i] {
				tb.T.Fatalf("message %d arrived as\n%.200q\nwant\n%.200q", i, got[i], texts[i])
			}
		}
		tb.T.Fatalf("%d messages arrived, want %d", len(got), len(texts))
	}
}

// longTexts are n texts of about size characters: words that repeat, as
// chat does, in an order of their own each, with the message's number.
func longTexts(n, size int) []string {
	words := strings.Fields("the a message room we it is to and of tomorrow deploy review lunch build release " +
		"meeting notes thanks later today please check again done fixed broken window primer stream")
	rnd := rand.New(rand.NewPCG(7, 8))
	var texts []string
	for i := range n {
		var b strings.Builder
		fmt.Fprintf(&b, "long message %d:", i)
		for b.Len() < size {
			b.WriteString(" " + words[rnd.IntN(len(words))])
			if rnd.IntN(9) == 0 {
				fmt.Fprintf(&b, " %d", rnd.IntN(100000))
			}
		}
		texts = append(texts, b.String())
	}
	return texts
}
