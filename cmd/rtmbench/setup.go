package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"time"
)

// The fixed layout every workload draws on, created once and cached in the
// benchmark database: a lobby whose members are the first 1,000 accounts,
// and 100 rooms of 20 for the first 2,000 (account k is in room k/20).
const (
	lobbySize = 1000
	roomCount = 100
	roomSize  = 20
)

type layout struct {
	Lobby int64   `json:"lobby"`
	Rooms []int64 `json:"rooms"`
}

type env struct {
	profile bool          // take CPU profiles of the server
	warmUp  time.Duration // the chat mix posts this long unmeasured first
	// lobbyEvery sends every lobbyEvery-th post of the chat mix to the
	// 1,000-member lobby (0: none), the rest to the small rooms.
	lobbyEvery int64
	out        string
	bin        string
	db         string   // an SQLite file or a postgres:// URL
	nodes      int      // servers per workload, sharing db (0 is 1)
	flags      []string // more server flags, for every workload
	accts      []*account
	layout     layout
}

// prepare builds the server, makes sure the accounts and rooms exist (a
// rerun reuses them), and mints fresh sessions.
func prepare(ctx context.Context, out, bin string, users int) (*env, error) {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, err
	}
	e := &env{out: out, bin: bin, db: filepath.Join(out, "bench.db"), lobbyEvery: defaultLobbyEvery}
	if e.bin == "" {
		e.bin = filepath.Join(out, "rtmessenger")
		build := exec.CommandContext(ctx, "go", "build", "-o", e.bin, "./cmd/rtmessenger")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return nil, fmt.Errorf("build server (run rtmbench from the repository root): %w", err)
		}
	}
	return e, e.populate(ctx, users, filepath.Join(out, "layout.json"))
}

// on is an env like e on another database, which it fills with accounts
// and the layout. The database is made for one run: its layout is not
// cached.
func (e *env) on(ctx context.Context, db string, users int) (*env, error) {
	o := &env{profile: e.profile, warmUp: e.warmUp, lobbyEvery: e.lobbyEvery, out: e.out, bin: e.bin, db: db}
	return o, o.populate(ctx, users, "")
}

// populate creates users accounts with fresh sessions and the layout,
// cached in layoutCache unless it is "".
func (e *env) populate(ctx context.Context, users int, layoutCache string) error {
	accts, err := seed(ctx, e.db, users)
	if err != nil {
		return fmt.Errorf("accounts: %w", err)
	}
	e.accts = accts
	return e.ensureLayout(ctx, layoutCache)
}

func (e *env) ensureLayout(ctx context.Context, cache string) error {
	if b, err := os.ReadFile(cache); cache != "" && err == nil && json.Unmarshal(b, &e.layout) == nil && len(e.layout.Rooms) == roomCount {
		return nil
	}
	if len(e.accts) < roomCount*roomSize {
		return errors.New("need at least 2,000 accounts for the room layout")
	}
	srv, err := startServer(e.bin, e.db)
	if err != nil {
		return err
	}
	defer srv.stop()
	p := newPoster(srv.url)
	if e.layout.Lobby, err = createRoom(ctx, p, e.accts[0], "lobby"); err != nil {
		return err
	}
	for k := range roomCount {
		id, err := createRoom(ctx, p, e.accts[k*roomSize], fmt.Sprintf("room-%02d", k))
		if err != nil {
			return err
		}
		e.layout.Rooms = append(e.layout.Rooms, id)
	}
	var joins []func() error
	for i := 1; i < lobbySize; i++ {
		joins = append(joins, func() error { return join(ctx, p, e.accts[i], e.layout.Lobby) })
	}
	for i := range roomCount * roomSize {
		if i%roomSize != 0 {
			joins = append(joins, func() error { return join(ctx, p, e.accts[i], e.layout.Rooms[i/roomSize]) })
		}
	}
	if err := parallel(32, joins); err != nil {
		return err
	}
	if cache == "" {
		return nil
	}
	b, _ := json.Marshal(e.layout)
	return os.WriteFile(cache, b, 0o644)
}

var roomIDRE = regexp.MustCompile(`^/rooms/(\d+)$`)

func createRoom(ctx context.Context, p *poster, a *account, name string) (int64, error) {
	req := url.Values{"name": {name}}
	resp, err := p.hc.Do(mustReq(ctx, p, a, "/rooms", req))
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	m := roomIDRE.FindStringSubmatch(resp.Header.Get("Location"))
	if m == nil {
		return 0, fmt.Errorf("create room %s: %s", name, resp.Status)
	}
	return strconv.ParseInt(m[1], 10, 64)
}

func join(ctx context.Context, p *poster, a *account, room int64) error {
	status, err := p.post(ctx, a, "/rooms/"+strconv.FormatInt(room, 10)+"/join", nil, false)
	if err == nil && status != 303 {
		err = fmt.Errorf("join: status %d", status)
	}
	return err
}

// parallel runs fns on n workers and returns the first error.
func parallel(n int, fns []func() error) error {
	ch := make(chan func() error)
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for range n {
		wg.Go(func() {
			for fn := range ch {
				if err := fn(); err != nil {
					once.Do(func() { first = err })
				}
			}
		})
	}
	for _, fn := range fns {
		ch <- fn
	}
	close(ch)
	wg.Wait()
	return first
}

// roomOf is the small room account i belongs to (i < 2,000).
func (e *env) roomOf(i int) int64 { return e.layout.Rooms[i/roomSize] }

// roomsOf lists every room of account i.
func (e *env) roomsOf(i int) []int64 {
	var rooms []int64
	if i < lobbySize {
		rooms = append(rooms, e.layout.Lobby)
	}
	if i < roomCount*roomSize {
		rooms = append(rooms, e.roomOf(i))
	}
	return rooms
}

// membersOf lists the members of a room of the layout.
func (e *env) membersOf(room int64) []*account {
	if room == e.layout.Lobby {
		return e.accts[:lobbySize]
	}
	k := slices.Index(e.layout.Rooms, room)
	return e.accts[k*roomSize : (k+1)*roomSize]
}

var afterRE = regexp.MustCompile(`/events\?after=(\d+)`)

// latestID reads the newest message id from a page, as a browser would.
func latestID(ctx context.Context, p *poster, a *account) (int64, error) {
	status, b, err := p.get(ctx, a, "/rooms")
	if err != nil {
		return 0, err
	}
	m := afterRE.FindSubmatch(b)
	if status != 200 || m == nil {
		return 0, fmt.Errorf("latest id: status %d", status)
	}
	return strconv.ParseInt(string(m[1]), 10, 64)
}
