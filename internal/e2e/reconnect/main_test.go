// Package reconnect holds browser tests of a page's stream across
// interruptions: server restarts, replays and reloads, and streams that
// end for good.
package reconnect

import (
	"testing"

	"github.com/rtmessenger/rtmessenger/internal/e2e"
)

func TestMain(m *testing.M) { e2e.Main(m) }
