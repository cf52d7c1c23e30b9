package browsertest

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestRequired(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want bool
	}{
		{map[string]string{}, false},
		{map[string]string{"CI": "true"}, true},
		{map[string]string{"CI": "false"}, false},
		{map[string]string{"CI": "1"}, false}, // CI systems set "true"; keep the old meaning exact
		{map[string]string{"RTM_REQUIRE_BROWSER": "1"}, true},
		{map[string]string{"RTM_REQUIRE_BROWSER": "true"}, true},
		{map[string]string{"RTM_REQUIRE_BROWSER": "0"}, false},
		{map[string]string{"RTM_REQUIRE_BROWSER": ""}, false},
		{map[string]string{"RTM_REQUIRE_BROWSER": "yes please"}, false},
		{map[string]string{"CI": "true", "RTM_REQUIRE_BROWSER": "0"}, true},
	} {
		if got := required(func(k string) string { return tc.env[k] }); got != tc.want {
			t.Errorf("required with %v = %v, want %v", tc.env, got, tc.want)
		}
	}
}

// Notes from tests running side by side each get a file, and reading the
// directory back gives every line once per note, as the Makefile counts them.
func TestLeaveNote(t *testing.T) {
	if err := leaveNote("", "ignored"); err != nil {
		t.Fatalf("no directory must mean no note, not %v", err)
	}
	dir := t.TempDir()
	for _, line := range []string{missingBrowser, missingBrowser, "other tests skipped: no tool"} {
		if err := leaveNote(dir, line); err != nil {
			t.Fatal(err)
		}
	}
	files, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil || len(files) != 3 {
		t.Fatalf("want 3 note files, got %v (%v)", files, err)
	}
	var got []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(string(b), "\n") || strings.Count(string(b), "\n") != 1 {
			t.Errorf("note %q must be one line", b)
		}
		got = append(got, strings.TrimSuffix(string(b), "\n"))
	}
	slices.Sort(got)
	if want := []string{missingBrowser, missingBrowser, "other tests skipped: no tool"}; !slices.Equal(got, want) {
		t.Errorf("notes read back as %q, want %q", got, want)
	}
	if err := leaveNote(filepath.Join(dir, "missing"), "x"); err == nil || !strings.Contains(err.Error(), NotesEnv) {
		t.Errorf("a note that cannot be written must say where it went: %v", err)
	}
}
