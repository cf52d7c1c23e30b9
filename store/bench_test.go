package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/rtmessenger/rtmessenger/chat"
)

func benchStore(b *testing.B) (*Store, chat.User, chat.Room) {
	b.Helper()
	s, err := Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	u, err := s.CreateUser(context.Background(), "bencher", "h")
	if err != nil {
		b.Fatal(err)
	}
	r, err := s.CreateRoom(context.Background(), u, "bench", "")
	if err != nil {
		b.Fatal(err)
	}
	return s, u, r
}

// BenchmarkPostMessage is one poster at a time: every post is its own
// commit.
func BenchmarkPostMessage(b *testing.B) {
	s, u, r := benchStore(b)
	ctx := context.Background()
	i := 0
	for b.Loop() {
		i++
		if _, err := s.PostMessage(ctx, r.ID, u, "a benchmark message", fmt.Sprint("c", i)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPostMessageParallel has many posters at once, so posts share
// commits (group commit).
func BenchmarkPostMessageParallel(b *testing.B) {
	s, u, r := benchStore(b)
	ctx := context.Background()
	var n atomic.Int64
	b.SetParallelism(32)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.PostMessage(ctx, r.ID, u, "a benchmark message", fmt.Sprint("p", n.Add(1))); err != nil {
				b.Error(err)
				return
			}
		}
	})
	batches, ops := s.Stats()
	b.ReportMetric(float64(ops)/float64(batches), "posts/commit")
}

// BenchmarkHistory reads the newest page of a busy room.
func BenchmarkHistory(b *testing.B) {
	s, u, r := benchStore(b)
	ctx := context.Background()
	for i := range 500 {
		if _, err := s.PostMessage(ctx, r.ID, u, "history", fmt.Sprint("h", i)); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		if msgs, _, err := s.History(ctx, r.ID, 0, chat.PageSize); err != nil || len(msgs) != chat.PageSize {
			b.Fatal(len(msgs), err)
		}
	}
}

// BenchmarkAnnounce5000 sends one announcement to 5,000 people (the
// conversations exist after the first round, as they would in use): one
// transaction per announcement.
func BenchmarkAnnounce5000(b *testing.B) {
	s, sender, _ := benchStore(b)
	ctx := context.Background()
	names := make([]string, 5000)
	for i := range names {
		names[i] = fmt.Sprintf("r%05d", i)
	}
	mustUsers(b, s, names)
	for b.Loop() {
		a, err := s.Announce(ctx, sender, chat.AnnouncementTargets{Everyone: true}, "all hands")
		if err != nil || a.Recipients != 5000 {
			b.Fatal(a.Recipients, err)
		}
	}
	b.ReportMetric(5000, "recipients/op")
}

// BenchmarkImport5000 imports the largest file allowed: 5,000 people with
// details, their audit rows and sign-in links, in one transaction.
func BenchmarkImport5000(b *testing.B) {
	s, admin, _ := benchStore(b)
	ctx := context.Background()
	round := 0
	for b.Loop() {
		round++
		rows := make([]chat.ImportRow, chat.MaxImportRows)
		for i := range rows {
			rows[i] = chat.ImportRow{Line: i + 2, Username: fmt.Sprintf("p%d-%05d", round, i), Profile: chat.Profile{
				DisplayName: fmt.Sprintf("Person %d", i), Email: fmt.Sprintf("p%d@example.com", i),
				Title: "Engineer", Department: "Platform", Phone: "+1 555 0100",
			}}
		}
		invites, rowErrs, err := s.ImportPeople(ctx, rows, admin)
		if err != nil || len(rowErrs) > 0 || len(invites) != len(rows) {
			b.Fatal(len(invites), rowErrs, err)
		}
	}
	b.ReportMetric(chat.MaxImportRows, "people/op")
}

// BenchmarkChangesParallel compares, per op under group commit, what the
// chat mix's actions cost the writer: a post, an edit (the search index
// follows it) and a reaction, each with many at once as in the mix.
func BenchmarkChangesParallel(b *testing.B) {
	for _, action := range []string{"post", "edit", "react"} {
		b.Run(action, func(b *testing.B) {
			s, u, r := benchStore(b)
			ctx := context.Background()
			var targets []int64
			for i := range 256 {
				m, err := s.PostMessage(ctx, r.ID, u, fmt.Sprint("a message to change ", i), "")
				if err != nil {
					b.Fatal(err)
				}
				targets = append(targets, m.ID)
			}
			var n atomic.Int64
			b.SetParallelism(32)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					id := targets[i%int64(len(targets))]
					var err error
					switch action {
					case "post":
						_, err = s.PostMessage(ctx, r.ID, u, "a benchmark message", fmt.Sprint("p", i))
					case "edit":
						_, err = s.EditMessage(ctx, r.ID, id, u, fmt.Sprint("an edited message ", i))
					case "react":
						_, _, err = s.React(ctx, r.ID, id, u, chat.Reactions[i%int64(len(chat.Reactions))])
					}
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkPostManyRoomsParallel is chat's common shape: many posters in
// many rooms, each post under an id the server would hand out. Besides
// time it reports the bytes the process wrote per post (Linux): each
// index page a commit touches is a page in the write-ahead log, and again
// in the database file when checkpointed.
func BenchmarkPostManyRoomsParallel(b *testing.B) {
	const rooms, perRoom = 50, 4
	s, _, _ := benchStore(b)
	ctx := context.Background()
	names := make([]string, rooms*perRoom)
	for i := range names {
		names[i] = fmt.Sprint("poster", i)
	}
	users := mustUsers(b, s, names)
	roomOf := make([]int64, len(users))
	for i := 0; i < len(users); i += perRoom {
		r, err := s.CreateRoom(ctx, users[i], fmt.Sprint("room", i), "")
		if err != nil {
			b.Fatal(err)
		}
		for j := i; j < i+perRoom; j++ {
			roomOf[j] = r.ID
			if j > i {
				if err := s.Join(ctx, r.ID, users[j]); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	batches0, ops0 := s.Stats()
	written0, measured := bytesWritten()
	var n atomic.Int64
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := int(n.Add(1)*7919) % len(users) // spread over people and rooms
			if _, err := s.PostMessage(ctx, roomOf[i], users[i], "a benchmark message", chat.NewClientID()); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	batches, ops := s.Stats()
	b.ReportMetric(float64(ops-ops0)/float64(batches-batches0), "posts/commit")
	if written, ok := bytesWritten(); ok && measured {
		b.ReportMetric(float64(written-written0)/float64(ops-ops0), "written-B/post")
	}
}

// bytesWritten is what this process has handed to write calls so far
// (/proc/self/io's wchar), where the system tells.
func bytesWritten() (int64, bool) {
	io, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return 0, false
	}
	for line := range strings.Lines(string(io)) {
		if v, ok := strings.CutPrefix(line, "wchar: "); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}
