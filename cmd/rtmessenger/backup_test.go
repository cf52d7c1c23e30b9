package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/rtmessenger/rtmessenger/internal/poll"
)

// The operator's round trip on a running server: people post all the
// time while `backup` runs; the backup holds every post acknowledged
// before it began. Then the server stops, `restore` puts the backup back,
// and the server starts on it.
func TestBackupWhileServingThenRestore(t *testing.T) {
	dir := t.TempDir()
	db, out := filepath.Join(dir, "live.db"), filepath.Join(dir, "backup.db")
	s := startServer(t, db, "-post-rate", "0") // a refused post is answered 303 too
	a := s.signup("anna")
	room := a.createRoom("busy")

	var mu sync.Mutex
	var acked []string
	ackedCount := func() int { mu.Lock(); defer mu.Unlock(); return len(acked) }
	ctx, stop := context.WithCancel(t.Context())
	var poster sync.WaitGroup
	poster.Go(func() {
		for i := 0; ctx.Err() == nil; i++ {
			text := fmt.Sprintf("post number %d", i)
			if err := postForm(ctx, a, room+"/messages", url.Values{"body": {text}}); err != nil {
				if ctx.Err() == nil {
					t.Errorf("post while backing up: %v", err)
				}
				return
			}
			mu.Lock()
			acked = append(acked, text)
			mu.Unlock()
		}
	})
	defer func() { stop(); poster.Wait() }()
	poll.Until(t, "posts before the backup", func() bool { return ackedCount() >= 50 })
	mu.Lock()
	before := append([]string(nil), acked...)
	mu.Unlock()

	var stdout bytes.Buffer
	if err := run(t.Context(), []string{"backup", "-db", db, "-out", out}, noEnv, &stdout); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), "integrity check ok") {
		t.Fatalf("backup said: %s", stdout.String())
	}
	stop()
	poster.Wait()
	bodies := messageBodies(t, out)
	for _, text := range before {
		if !bodies[text] {
			t.Fatalf("%q was acknowledged before the backup began but is not in it", text)
		}
	}

	// The server holds the database: restore refuses until it stops.
	if err := run(t.Context(), []string{"restore", "-from", out, "-db", db}, noEnv, io.Discard); err == nil || !strings.Contains(err.Error(), "stop it") {
		t.Fatalf("restore under a running server: %v", err)
	}
	es := a.stream("")
	a.say(room, "the last word before the restore")
	last := es.next() // an id the restored database never had
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	stdout.Reset()
	if err := run(t.Context(), []string{"restore", "-from", out, "-db", db}, noEnv, &stdout); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), "now holds") {
		t.Fatalf("restore said: %s", stdout.String())
	}
	restored := messageBodies(t, db)
	if len(restored) != len(bodies) {
		t.Fatalf("restored %d messages, the backup holds %d", len(restored), len(bodies))
	}
	s2 := startServer(t, db)
	a.s = s2
	jar := a.c.Jar // the session was in the backup too
	u, _ := url.Parse(s2.url)
	old, _ := url.Parse(s.url)
	jar.SetCookies(u, jar.Cookies(old))
	if ev := a.stream(last.ID).next(); ev.Name != "rtm-reset" {
		t.Fatalf("a page that saw a message the restore lost resumed with %+v; want a reset", ev)
	}
	a.say(room, "after the restore")
}

func TestBackupAndRestoreRefusePostgres(t *testing.T) {
	pg := "postgres://postgres:secret@127.0.0.1:5432/chat"
	for _, args := range [][]string{
		{"backup", "-db", pg, "-out", "x.db"},
		{"restore", "-from", "x.db", "-db", pg},
	} {
		err := run(t.Context(), args, noEnv, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "pg_dump") || strings.Contains(err.Error(), "secret") {
			t.Errorf("%s on PostgreSQL: %v; want a pointer to pg_dump, no password", args[0], err)
		}
	}
	for _, args := range [][]string{{"backup", "-db", "x.db"}, {"restore", "-db", "x.db"}, {"backup", "-db", "a.db", "-out", "b.db", "extra"}} {
		if err := run(t.Context(), args, noEnv, io.Discard); err == nil || !strings.Contains(err.Error(), "want") {
			t.Errorf("%v: %v; want a usage error", args, err)
		}
	}
}

func noEnv(string) string { return "" }

// postForm posts like person.post, from any goroutine: it returns an
// error instead of failing the test.
func postForm(ctx context.Context, p *person, path string, form url.Values) error {
	req, err := http.NewRequestWithContext(ctx, "POST", p.s.url+path, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := p.c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusSeeOther {
		return fmt.Errorf("POST %s: %s", path, resp.Status)
	}
	return nil
}

// messageBodies reads the text of every message in an SQLite file.
func messageBodies(t *testing.T, path string) map[string]bool {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query("SELECT body FROM messages")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var b string
		if err := rows.Scan(&b); err != nil {
			t.Fatal(err)
		}
		out[b] = true
	}
	return out
}
