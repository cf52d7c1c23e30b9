// Package changes holds browser tests of what people do to messages after
// sending them: edit in place, delete, react and reply, each live in the
// other person's browser; and the same through plain forms with
// JavaScript off (w3m).
package changes

import (
	"testing"

	"github.com/rtmessenger/rtmessenger/internal/e2e"
)

func TestMain(m *testing.M) { e2e.Main(m) }
