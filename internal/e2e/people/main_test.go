// Package people holds browser tests of the people directory, profiles
// and announcements.
package people

import (
	"testing"

	"github.com/rtmessenger/rtmessenger/internal/e2e"
)

func TestMain(m *testing.M) { e2e.Main(m) }
