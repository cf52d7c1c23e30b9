// Package private holds browser tests of private rooms: invite links,
// removal, and both with JavaScript off.
package private

import (
	"testing"

	"github.com/rtmessenger/rtmessenger/internal/e2e"
)

func TestMain(m *testing.M) { e2e.Main(m) }
