// Package redistest finds the Redis that tests run against and puts a
// cuttable proxy in front of it. Without Redis a test skips with one clear
// line (and leaves a note for `make test` to print, as browser tests do),
// except under CI=true or RTM_REQUIRE_REDIS=1, where it fails: CI runs
// every Redis test.
package redistest

import (
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"strconv"
	"testing"
	"time"
)

// Env names the variable holding the address of the Redis for tests
// (host:port, default 127.0.0.1:6379).
const Env = "RTM_TEST_REDIS"

// notesEnv is where `make test` collects skip notes (browsertest.NotesEnv).
const notesEnv = "RTM_TEST_NOTES"

// Addr returns the address of a Redis that answers PING, or skips t.
func Addr(t testing.TB) string {
	t.Helper()
	addr := os.Getenv(Env)
	if addr == "" {
		addr = "127.0.0.1:6379"
	}
	if err := ping(addr); err != nil {
		why := fmt.Sprintf("redis tests skipped: no Redis at %s (%v); start one (apt-get install redis-server) or set %s", addr, err, Env)
		if required(os.Getenv) {
			t.Fatalf("%s, and Redis tests may not skip here (CI=true or RTM_REQUIRE_REDIS=1)", why)
		}
		leaveNote(t, why)
		t.Skip(why)
	}
	return addr
}

// Channel returns a Pub/Sub channel name of the test's own, so tests
// running side by side on one Redis never hear each other.
func Channel(t testing.TB) string {
	return "rtmtest:" + t.Name() + ":" + rand.Text()[:8]
}

// required reports whether a missing Redis must fail the test: under
// CI=true or with RTM_REQUIRE_REDIS set to a true value.
func required(getenv func(string) string) bool {
	if getenv("CI") == "true" {
		return true
	}
	ok, _ := strconv.ParseBool(getenv("RTM_REQUIRE_REDIS"))
	return ok
}

func ping(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	buf := make([]byte, 7)
	if _, err := c.Read(buf); err != nil {
		return err
	}
	if string(buf) != "+PONG\r\n" {
		return fmt.Errorf("answered %q to PING", buf)
	}
	return nil
}

// leaveNote writes the skip line where `make test` collects them.
func leaveNote(t testing.TB, line string) {
	dir := os.Getenv(notesEnv)
	if dir == "" {
		return
	}
	f, err := os.CreateTemp(dir, "note-*.txt")
	if err != nil {
		t.Logf("redistest: leave a note: %v", err)
		return
	}
	defer f.Close()
	fmt.Fprintln(f, line)
}
