package browsertest

import (
	"os"
	"os/exec"
	"testing"
)

// missingW3M is both the skip message and the note of a no-script test
// without w3m.
const missingW3M = "no-script tests skipped: w3m not found; install it (apt-get install w3m) or set W3M to its path"

// W3M returns the path of w3m, the text browser that runs no script, for
// tests of what works with JavaScript off. Without it the test skips and
// leaves a note, as Start does for Chromium, except where nothing may skip
// (CI=true or RTM_REQUIRE_BROWSER=1): there it fails.
func W3M(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("no-script browser test skipped in -short mode")
	}
	path := os.Getenv("W3M")
	if path == "" {
		path, _ = exec.LookPath("w3m")
	}
	if path != "" {
		return path
	}
	if required(os.Getenv) {
		t.Fatal("w3m not found, and browser tests may not skip here (CI=true or RTM_REQUIRE_BROWSER=1): install it (apt-get install -y w3m) or set W3M to its path")
	}
	if err := leaveNote(os.Getenv(NotesEnv), missingW3M); err != nil {
		t.Logf("browsertest: %v", err)
	}
	t.Skip(missingW3M)
	return ""
}
