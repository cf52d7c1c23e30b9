package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/rtmessenger/rtmessenger/internal/poll"
)

// A backup taken while the writer commits posts all the time is sound and
// holds every message acknowledged before it began.
func TestBackupWhileWriting(t *testing.T) {
	sqliteOnly(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "live.db")
	s := openAt(t, path, Options{})
	alice := mustUser(t, s, "alice")
	room := mustRoom(t, s, alice, "general")

	var mu sync.Mutex
	var acked []int64
	ackedCount := func() int { mu.Lock(); defer mu.Unlock(); return len(acked) }
	ctx, stop := context.WithCancel(t.Context())
	var poster sync.WaitGroup
	poster.Go(func() {
		for i := 0; ctx.Err() == nil; i++ {
			m, err := s.PostMessage(ctx, room.ID, alice, fmt.Sprintf("post %d", i), "")
			if err != nil {
				if ctx.Err() == nil {
					t.Errorf("post during backup: %v", err)
				}
				return
			}
			mu.Lock()
			acked = append(acked, m.ID)
			mu.Unlock()
		}
	})
	defer func() { stop(); poster.Wait() }()
	poll.Until(t, "posts before the backup", func() bool { return ackedCount() >= 200 })

	mu.Lock()
	before := append([]int64(nil), acked...)
	mu.Unlock()
	out := filepath.Join(dir, "backup.db")
	info, err := Backup(t.Context(), path, out)
	if err != nil {
		t.Fatal(err)
	}
	during := ackedCount() - len(before)
	stop()
	poster.Wait()

	if _, err := CheckBackup(t.Context(), out); err != nil {
		t.Fatalf("the backup fails its check: %v", err)
	}
	ids := backupMessageIDs(t, out)
	for _, id := range before {
		if !ids[id] {
			t.Fatalf("message %d was acknowledged before the backup began but is not in it (%d messages there)", id, len(ids))
		}
	}
	if last := before[len(before)-1]; info.LatestEvent < last {
		t.Fatalf("backup reports events up to %d, but %d was acknowledged before it", info.LatestEvent, last)
	}
	t.Logf("%d posts acknowledged before the backup, %d while it ran; it holds %d messages, %d bytes",
		len(before), during, len(ids), info.Bytes)
}

func backupMessageIDs(t *testing.T, path string) map[int64]bool {
	t.Helper()
	db, err := openReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query("SELECT id FROM messages")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	ids := map[int64]bool{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids[id] = true
	}
	return ids
}

func TestBackupRefusesBadPaths(t *testing.T) {
	sqliteOnly(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "db.db")
	s := openAt(t, path, Options{})
	mustUser(t, s, "alice")
	exists := filepath.Join(dir, "exists.db")
	os.WriteFile(exists, []byte("keep me"), 0o600)
	for _, tc := range []struct{ db, out, want string }{
		{filepath.Join(dir, "missing.db"), filepath.Join(dir, "b1.db"), "no such file"},
		{dir, filepath.Join(dir, "b2.db"), "not a file"},
		{path, exists, "exists"},
	} {
		_, err := Backup(t.Context(), tc.db, tc.out)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Backup(%s, %s) = %v; want an error saying %q", tc.db, tc.out, err, tc.want)
		}
	}
	if b, _ := os.ReadFile(exists); string(b) != "keep me" {
		t.Fatal("an existing file was overwritten")
	}
	if _, err := os.Stat(filepath.Join(dir, "missing.db")); err == nil {
		t.Fatal("a backup of a missing database created it")
	}
}

// A restore puts back exactly what the backup held; what came after is
// gone, and the store opens on it as before.
func TestRestoreRoundTrip(t *testing.T) {
	sqliteOnly(t)
	dir := t.TempDir()
	path, out := filepath.Join(dir, "db.db"), filepath.Join(dir, "backup.db")
	s, err := Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	alice := mustUser(t, s, "alice")
	room := mustRoom(t, s, alice, "general")
	kept, _ := s.PostMessage(t.Context(), room.ID, alice, "in the backup", "")
	info, err := Backup(t.Context(), path, out)
	if err != nil {
		t.Fatal(err)
	}
	mustUser(t, s, "bob")
	lost, _ := s.PostMessage(t.Context(), room.ID, alice, "after the backup", "")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	got, err := Restore(t.Context(), out, path)
	if err != nil {
		t.Fatal(err)
	}
	if got.LatestEvent != info.LatestEvent || got.LatestEvent != kept.ID {
		t.Fatalf("restored events up to %d; the backup said %d, its last message was %d", got.LatestEvent, info.LatestEvent, kept.ID)
	}
	s = openAt(t, path, Options{})
	msgs, _, err := s.History(t.Context(), room.ID, 0, 10)
	if err != nil || len(msgs) == 0 || msgs[len(msgs)-1].Body != "in the backup" {
		t.Fatalf("history after restore: %v, %v", msgs, err)
	}
	if _, _, err := s.UserByName(t.Context(), "bob"); err == nil {
		t.Fatal("a user created after the backup survived the restore")
	}
	// Ids go on after the replaced database's: a page that saw the lost
	// message resumes from its id, which must not be handed out again,
	// and replay resets it (the horizon), while a page opened now starts
	// at the horizon and replays normally.
	latest, horizon, _ := s.ReplayBounds(t.Context())
	if latest != lost.ID+1 || horizon != latest {
		t.Fatalf("after restore: latest id %d, replay horizon %d; want both %d (past the replaced database's %d)", latest, horizon, lost.ID+1, lost.ID)
	}
	if n, err := s.PostMessage(t.Context(), room.ID, alice, "after the restore", ""); err != nil || n.ID <= lost.ID {
		t.Fatalf("post after restore: %+v, %v; want an id above %d", n, err, lost.ID)
	}
}

// An empty file (one made ready for the restore) holds no ids to go past:
// the restore takes it like a missing one.
func TestRestoreOntoAnEmptyFile(t *testing.T) {
	sqliteOnly(t)
	dir := t.TempDir()
	src, out, path := filepath.Join(dir, "src.db"), filepath.Join(dir, "backup.db"), filepath.Join(dir, "empty.db")
	s := openAt(t, src, Options{})
	alice := mustUser(t, s, "alice")
	room := mustRoom(t, s, alice, "general")
	kept := mustPost(t, s, room.ID, alice, "in the backup")
	if _, err := Backup(t.Context(), src, out); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := Restore(t.Context(), out, path)
	if err != nil || got.LatestEvent != kept.ID {
		t.Fatalf("restore onto an empty file: %+v, %v", got, err)
	}
}

// Restore refuses while anything has the database open: a store (its lock
// file) or a bare SQLite connection (SQLite's own lock). A store cannot
// open while a restore holds the lock file.
func TestRestoreRefusesAnOpenDatabase(t *testing.T) {
	sqliteOnly(t)
	dir := t.TempDir()
	path, out := filepath.Join(dir, "db.db"), filepath.Join(dir, "backup.db")
	s, err := Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	mustUser(t, s, "alice")
	if _, err := Backup(t.Context(), path, out); err != nil {
		t.Fatal(err)
	}
	mustUser(t, s, "bob")
	if _, err := Restore(t.Context(), out, path); !errors.Is(err, ErrInUse) || !strings.Contains(err.Error(), "stop it") {
		t.Fatalf("restore under a running store: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	bare, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := bare.QueryRow("SELECT COUNT(*) FROM users").Scan(&n); err != nil || n != 2 {
		t.Fatalf("users: %d, %v", n, err)
	}
	if _, err := Restore(t.Context(), out, path); !errors.Is(err, ErrInUse) || !strings.Contains(err.Error(), "another process") {
		t.Fatalf("restore under an open SQLite connection: %v", err)
	}
	bare.Close()

	lock, err := lockDB(path, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(t.Context(), path, Options{}); err == nil || !strings.Contains(err.Error(), "being restored") {
		t.Fatalf("open during a restore: %v", err)
	}
	lock.Close()
	s = openAt(t, path, Options{})
	if _, _, err := s.UserByName(t.Context(), "bob"); err != nil {
		t.Fatalf("a refused restore changed the database: %v", err)
	}
}

// A damaged backup, or a file that is not one, is refused and changes
// nothing.
func TestRestoreRefusesABadBackup(t *testing.T) {
	sqliteOnly(t)
	dir := t.TempDir()
	path, out := filepath.Join(dir, "db.db"), filepath.Join(dir, "backup.db")
	s, err := Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	alice := mustUser(t, s, "alice")
	room := mustRoom(t, s, alice, "general")
	for i := range 300 {
		s.PostMessage(t.Context(), room.ID, alice, strings.Repeat("words ", 20)+fmt.Sprint(i), "")
	}
	if _, err := Backup(t.Context(), path, out); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	good, _ := os.ReadFile(out)
	damaged := bytes.Clone(good)
	page := 4096
	if len(damaged) < 6*page {
		t.Fatalf("backup too small to damage a middle page: %d bytes", len(damaged))
	}
	for i := 3 * page; i < 4*page; i++ {
		damaged[i] = 0x5a
	}
	other := filepath.Join(dir, "other.db")
	o, _ := sql.Open("sqlite", other)
	o.Exec("CREATE TABLE notes (x)")
	o.Close()
	before, _ := os.ReadFile(path)
	for _, tc := range []struct {
		name string
		body []byte
		want string
	}{
		{"damaged.db", damaged, "damaged"},
		{"text.db", []byte("not a database at all, just some text long enough to be read as one"), "not a database"},
		{"empty.db", nil, "RT Messenger"},
	} {
		bad := filepath.Join(dir, tc.name)
		os.WriteFile(bad, tc.body, 0o600)
		if _, err := Restore(t.Context(), bad, path); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "nothing was changed") {
			t.Errorf("restore from %s: %v; want an error saying %q", tc.name, err, tc.want)
		}
	}
	if _, err := Restore(t.Context(), other, path); err == nil || !strings.Contains(err.Error(), "not RT Messenger's") {
		t.Errorf("restore from another program's database: %v", err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Fatal("a refused restore changed the database file")
	}
}

// What a restore is often for: the database file is ruined, and stale
// log files lie beside it. They are replaced and removed.
func TestRestoreOverADamagedDatabase(t *testing.T) {
	sqliteOnly(t)
	dir := t.TempDir()
	path, out := filepath.Join(dir, "db.db"), filepath.Join(dir, "backup.db")
	s, err := Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	mustUser(t, s, "alice")
	if _, err := Backup(t.Context(), path, out); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	junk := bytes.Repeat([]byte("ruined "), 2000)
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.WriteFile(f, junk, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Restore(t.Context(), out, path); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{path + "-wal", path + "-shm"} {
		if _, err := os.Stat(f); err == nil {
			t.Errorf("%s is still there", f)
		}
	}
	s = openAt(t, path, Options{})
	if _, _, err := s.UserByName(t.Context(), "alice"); err != nil {
		t.Fatalf("after restoring over a ruined file: %v", err)
	}
}

// A restore that cannot read the database it replaces for any reason but
// its being no database stops: going on without its newest id could hand
// that file's ids out again.
func TestRestoreStopsWhenItCannotReadTheOldDatabase(t *testing.T) {
	sqliteOnly(t)
	path := filepath.Join(t.TempDir(), "db.db")
	s, err := Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	alice := mustUser(t, s, "alice")
	room, err := s.CreateRoom(t.Context(), alice, "general", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.PostMessage(t.Context(), room.ID, alice, "hello", ""); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := settle(cancelled, path); err == nil {
		t.Fatal("settle went on without reading the old database's newest id")
	}
	if latest, err := settle(t.Context(), path); err != nil || latest == 0 {
		t.Fatalf("settle on a readable database: %d, %v", latest, err)
	}
}
