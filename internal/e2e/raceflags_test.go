package e2e

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The servers the browser tests build by themselves are built as `make
// test` builds the one it shares with them: the same flags, so a package
// run alone checks the same server.
func TestRaceFlagsMatchTheMakefile(t *testing.T) {
	makefile, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	line := regexp.MustCompile(`(?m)^RACE := .*echo (-race .*)\)$`).FindSubmatch(makefile)
	if line == nil {
		t.Fatal("no RACE line ending in `echo -race …)` in the Makefile")
	}
	if got := strings.Fields(string(line[1])); !slices.Equal(got, raceFlags) {
		t.Fatalf("the Makefile builds with\n\t%q\nand internal/e2e with\n\t%q", got, raceFlags)
	}
}

// A prebuilt server given by a relative path, or a program that is not
// the server, is refused rather than run.
func TestPrebuiltServerIsChecked(t *testing.T) {
	if _, err := checkPrebuilt("bin/rtmessenger"); err == nil {
		t.Fatal("a relative path was taken")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := checkPrebuilt(self); err == nil || !strings.Contains(err.Error(), "not the server") {
		t.Fatalf("the test binary was taken for the server: %v", err)
	}
}
