// Package reach holds browser tests of the product on the clients it is
// meant for beyond a desktop browser: narrow phone screens (Chromium at
// 320 to 768 px) and a text browser that runs no script and no CSS (w3m).
package reach

import (
	"testing"

	"github.com/rtmessenger/rtmessenger/internal/e2e"
)

func TestMain(m *testing.M) { e2e.Main(m) }
