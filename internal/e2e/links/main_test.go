// Package links holds browser tests of pages on unreliable links: the
// connection state they show, posts that fail and are sent again, forms
// whose refusal must not be posted again by a reload, and messages too
// long to send.
package links

import (
	"testing"

	"github.com/rtmessenger/rtmessenger/internal/e2e"
)

func TestMain(m *testing.M) { e2e.Main(m) }
