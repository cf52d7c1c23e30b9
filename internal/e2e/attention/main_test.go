// Package attention holds browser tests of what draws a person back:
// unread counts that survive a reload and clear when the room is opened,
// in every tab; mentions, highlighted for the person named and counted;
// the composer's @-suggestions; and the counts with JavaScript off (w3m).
package attention

import (
	"testing"

	"github.com/rtmessenger/rtmessenger/internal/e2e"
)

func TestMain(m *testing.M) { e2e.Main(m) }
