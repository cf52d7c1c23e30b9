// Package budget holds the browser test of what RT Messenger costs on the
// wire: a cold first load, a room switch, a message on the stream.
package budget

import (
	"testing"

	"github.com/rtmessenger/rtmessenger/internal/e2e"
)

func TestMain(m *testing.M) { e2e.Main(m) }
