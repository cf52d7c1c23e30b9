// Package format holds browser tests of formatted messages: links, code,
// emphasis and quotes as a reader sees them, live and in history, at a
// desktop and a phone's width, and with JavaScript off (w3m).
package format

import (
	"testing"

	"github.com/rtmessenger/rtmessenger/internal/e2e"
)

func TestMain(m *testing.M) { e2e.Main(m) }
