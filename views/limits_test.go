package views

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/rtmessenger/rtmessenger/chat"
)

// A message box never cuts a paste short (no maxlength); near the limit
// it shows the count the server would make, and over it says so.
func TestComposerCountsNearTheLimit(t *testing.T) {
	for _, c := range []struct {
		body, count string
		over        bool
	}{
		{"hello", "", false},
		{strings.Repeat("a", 3499), "", false},
		{"  " + strings.Repeat("é", 3500) + "\r\n", "3,500 / 4,000", false},
		{strings.Repeat("😀", 4000), "4,000 / 4,000", false},
		{strings.Repeat("a\r\n", 2050), "4,099 / 4,000", true},
	} {
		var buf bytes.Buffer
		if err := ComposerForm(Composer{RoomID: 1, Body: c.body}).Render(context.Background(), &buf); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		if strings.Contains(out, "maxlength") || !strings.Contains(out, `data-max="4000"`) {
			t.Errorf("%d characters: the box cuts pastes short or lacks its limit", len(c.body))
		}
		// Far from the limit the count is there, empty (the page script
		// fills it as one types).
		if want := fmt.Sprintf(`<span id="body-count" class="char-count"%s>%s</span>`, map[bool]string{true: " data-over", false: ""}[c.over], c.count); !strings.Contains(out, want) {
			t.Errorf("%.10q…: want %s:\n%.300s", c.body, want, out[strings.Index(out, "</textarea>"):])
		}
		if !strings.Contains(out, `<p id="composer-error" class="error" role="alert"></p>`) {
			t.Errorf("%.10q…: the box lacks its (empty) error line and count", c.body)
		}
		// The count is the server's: a refusal names the same number.
		_, err := chat.CleanMessage(c.body)
		if c.over && (err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%d characters", messageLength(c.body)))) {
			t.Errorf("server says %v, count says %d", err, messageLength(c.body))
		}
		if !c.over && err != nil {
			t.Errorf("%.10q…: refused under the limit: %v", c.body, err)
		}
	}
}

func TestGrouped(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 3812: "3,812", 1234567: "1,234,567"} {
		if got := grouped(n); got != want {
			t.Errorf("grouped(%d) = %q, want %q", n, got, want)
		}
	}
}
