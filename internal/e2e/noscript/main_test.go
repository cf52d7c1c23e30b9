// Package noscript holds browser tests of pages with JavaScript off: a
// room's new messages arrive live there too, in the frame whose document
// the server streams.
package noscript

import (
	"testing"

	"github.com/rtmessenger/rtmessenger/internal/e2e"
)

func TestMain(m *testing.M) { e2e.Main(m) }
