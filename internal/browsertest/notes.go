package browsertest

import (
	"fmt"
	"os"
	"strconv"
)

// NotesEnv names the directory where a test that skips for a missing tool
// leaves a one-line note. `make test` points it at a temporary directory
// and prints the distinct notes, with counts, after the run: `go test`
// alone shows a skip only with -v, and a skipped browser test must not
// pass for a tested one.
const NotesEnv = "RTM_TEST_NOTES"

// missingBrowser is both the skip message and the note.
const missingBrowser = "browser tests skipped: chromium not found; install it (apt-get install chromium) or set CHROMIUM to its path"

// required reports whether a missing browser must fail the test instead
// of skipping it: under CI=true (as CI systems set it) or with
// RTM_REQUIRE_BROWSER set to a true value (1, true).
func required(getenv func(string) string) bool {
	if getenv("CI") == "true" {
		return true
	}
	ok, _ := strconv.ParseBool(getenv("RTM_REQUIRE_BROWSER"))
	return ok
}

// leaveNote writes line as a note of its own file in dir, so that test
// processes running side by side never write to the same file. No dir,
// no note.
func leaveNote(dir, line string) error {
	if dir == "" {
		return nil
	}
	f, err := os.CreateTemp(dir, "note-*.txt")
	if err != nil {
		return fmt.Errorf("leave a note in $%s: %w", NotesEnv, err)
	}
	_, err = fmt.Fprintln(f, line)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("leave a note in $%s: %w", NotesEnv, err)
	}
	return nil
}
