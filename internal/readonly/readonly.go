// Package readonly makes an SQLite database read-only for tests, in a way
// that binds root too: tests here run as root, which ignores permission
// bits.
package readonly

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
)

// Database makes the SQLite database at path read-only until restore is
// called or the test ends: the file and, if it exists, its write-ahead log
// (-wal). The shared-memory index (-shm) is left alone: SQLite writes it
// through a memory map, where a refused write is a crash, not an error.
//
// As root it sets the immutable attribute (chattr +i), which refuses
// writes even through descriptors opened before (ext4, xfs, btrfs).
// Otherwise it clears the write permission bits, which bind only later
// opens; SQLite then creates a missing -wal or -shm read-only too, so
// restore gives all three the database's mode, as an operator would. It
// skips the test (fails it under CI=true) when it cannot do either.
func Database(t testing.TB, path string) (restore func()) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	files := []string{path}
	if _, err := os.Stat(path + "-wal"); err == nil {
		files = append(files, path+"-wal")
	}
	set, undo := chmod(fi.Mode().Perm()&^0o222, fi.Mode().Perm(), path)
	if os.Geteuid() == 0 {
		set, undo = chattr("+i", files), chattr("-i", files)
	}
	restore = sync.OnceFunc(func() {
		if err := undo(); err != nil {
			t.Errorf("readonly: restore %s: %v", path, err)
		}
	})
	t.Cleanup(restore) // before t.TempDir's removal, which an immutable file would stop
	if err := set(); err != nil {
		unable(t, err.Error())
	}
	return restore
}

// RequireOpenFiles skips the test (fails it under CI=true) unless Database
// also stops writes through descriptors that are already open.
func RequireOpenFiles(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		unable(t, "only root can make a file that is already open read-only (chattr +i)")
	}
}

func chattr(flag string, files []string) func() error {
	return func() error {
		args := append([]string{flag}, files...)
		if out, err := exec.Command("chattr", args...).CombinedOutput(); err != nil {
			return fmt.Errorf("chattr %s: %v %s (root needs chattr from e2fsprogs, CAP_LINUX_IMMUTABLE and "+
				"a file system with the immutable attribute)", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
		}
		return nil
	}
}

// chmod returns functions that make the database (and its log) read-only,
// and all three of its files writable again.
func chmod(readOnly, writable fs.FileMode, path string) (set, undo func() error) {
	set = func() error {
		return errors.Join(os.Chmod(path, readOnly), ignoreMissing(os.Chmod(path+"-wal", readOnly)))
	}
	undo = func() error {
		return errors.Join(os.Chmod(path, writable), ignoreMissing(os.Chmod(path+"-wal", writable)),
			ignoreMissing(os.Chmod(path+"-shm", writable)))
	}
	return set, undo
}

func ignoreMissing(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

func unable(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal("cannot make a file read-only, and CI may not skip: " + why)
	}
	t.Skip("cannot make a file read-only: " + why)
}
