// Package live holds browser tests of what a room shows besides its
// messages: who is typing, who is here, and notifications of mentions and
// direct messages.
package live

import (
	"testing"

	"github.com/rtmessenger/rtmessenger/internal/e2e"
)

func TestMain(m *testing.M) { e2e.Main(m) }
