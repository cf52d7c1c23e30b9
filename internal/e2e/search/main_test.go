// Package search holds browser tests of search and permalinks: find a
// message, open it in its room, highlighted and scrolled into view, copy
// its link; and the same search with JavaScript off (w3m).
package search

import (
	"testing"

	"github.com/rtmessenger/rtmessenger/internal/e2e"
)

func TestMain(m *testing.M) { e2e.Main(m) }
