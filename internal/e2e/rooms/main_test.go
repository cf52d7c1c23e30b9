// Package rooms holds browser tests of rooms and live chat: two people
// talking over Server-Sent Events and the WebSocket, several tabs, pages
// without script, moving between rooms.
package rooms

import (
	"testing"

	"github.com/rtmessenger/rtmessenger/internal/e2e"
)

func TestMain(m *testing.M) { e2e.Main(m) }
