package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
	"github.com/rtmessenger/rtmessenger/internal/pgtest"
	"github.com/rtmessenger/rtmessenger/store"
	"github.com/rtmessenger/rtmessenger/store/postgres"
)

// chatDB is a small but complete SQLite database built through the store:
// what the migration test reads back on both sides.
type chatDB struct {
	admin, alice, bob, carol, guest chat.User
	rooms                           []int64 // public, private, direct, group, announcement copies
	session, signIn, invite         string
	site                            int64
}

func seedSQLite(t *testing.T, path string) chatDB {
	t.Helper()
	ctx := t.Context()
	st, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var db chatDB
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("seed: %s: %v", what, err)
		}
	}
	user := func(name string) chat.User {
		u, err := st.CreateUser(ctx, name, "hash-of-"+name)
		must("user "+name, err)
		return u
	}
	db.admin, db.alice, db.bob, db.carol = user("admin"), user("alice"), user("bob"), user("carol")
	for _, u := range []chat.User{db.alice, db.bob} {
		_, err := st.UpdateProfile(ctx, u.Name, chat.Profile{DisplayName: strings.ToUpper(u.Name[:1]) + u.Name[1:] + " Smith", Title: "Engineer"}, db.admin)
		must("profile", err)
	}
	_, err = st.SetLight(ctx, db.carol.ID, true)
	must("light", err)

	lobby, err := st.CreateRoom(ctx, db.admin, "Lobby", "Say hello")
	must("room", err)
	secret, err := st.CreatePrivateRoom(ctx, db.alice, "secret", "plans")
	must("private room", err)
	for _, u := range []chat.User{db.alice, db.bob, db.carol} {
		must("join", st.Join(ctx, lobby.ID, u))
	}
	bob, err := st.AddMember(ctx, secret.ID, "bob", db.alice)
	must("add member", err)
	must("room admin", st.SetRoomAdmin(ctx, secret.ID, bob, db.alice, true))
	direct, err := st.StartConversation(ctx, db.alice, []string{"bob"})
	must("direct", err)
	group, err := st.StartConversation(ctx, db.bob, []string{"alice", "carol"})
	must("group", err)
	must("name group", st.NameConversation(ctx, group.ID, db.bob, "Lunch crew"))
	db.rooms = []int64{lobby.ID, secret.ID, direct.ID, group.ID}

	post := func(room int64, by chat.User, body string) chat.Message {
		m, err := st.PostMessage(ctx, room, by, body, "")
		must("post", err)
		return m
	}
	hello := post(lobby.ID, db.admin, "Hello everyone, the zebra deployment is done")
	q := post(lobby.ID, db.bob, "@alice can you check the zebra report?")
	_, err = st.PostReply(ctx, lobby.ID, db.alice, "On it", "client-1", q.ID)
	must("reply", err)
	_, err = st.EditMessage(ctx, lobby.ID, hello.ID, db.admin, "Hello everyone, the zebra deployment is done (v2)")
	must("edit", err)
	oops := post(lobby.ID, db.carol, "wrong room, sorry")
	_, err = st.DeleteMessage(ctx, lobby.ID, oops.ID, db.carol)
	must("delete", err)
	for _, r := range []struct {
		by    chat.User
		emoji string
	}{{db.alice, "👍"}, {db.bob, "👍"}, {db.carol, "🎉"}} {
		_, _, err := st.React(ctx, lobby.ID, hello.ID, r.by, r.emoji)
		must("react", err)
	}
	post(secret.ID, db.alice, "the secret plan involves a zebra")
	post(direct.ID, db.bob, "lunch?")
	post(group.ID, db.carol, "pizza friday")
	_, err = st.Announce(ctx, db.admin, chat.AnnouncementTargets{Usernames: []string{"alice", "bob"}}, "Fire drill at 3")
	must("announce", err)
	must("read", st.MarkRead(ctx, db.bob.ID, lobby.ID))

	db.session = "session-token-1"
	must("session", st.Sessions().CommitCtx(ctx, db.session, []byte("\x00binary\xffdata"), time.Now().Add(time.Hour)))
	must("session", st.Sessions().CommitCtx(ctx, "ended", []byte("x"), time.Now().Add(time.Hour)))
	must("log out", st.Sessions().DeleteCtx(ctx, "ended"))
	in, err := st.CreateSignInLink(ctx, "carol", db.admin)
	must("sign-in link", err)
	db.signIn = in.Token
	link, err := st.CreateInviteLink(ctx, secret.ID, db.alice, 24*time.Hour, 5)
	must("invite link", err)
	db.invite = link.Token

	// An embedding site and one of its users: users.site_id and
	// embed_sites.created_by refer to each other.
	site, _, err := st.CreateSite(ctx, db.admin, chat.Site{Origin: "https://blog.example", AllPublic: true, Guests: true})
	must("site", err)
	db.site = site.ID
	now := time.Now()
	db.guest, err = st.EmbedSignIn(ctx, site, chat.EmbedClaims{Site: site.ID, Sub: "reader-7", Name: "Gina", Iat: now.Unix(), Exp: now.Add(5 * time.Minute).Unix(), Nonce: "n-1"}, lobby.ID)
	must("embed sign-in", err)
	post(lobby.ID, db.guest, "greetings from the blog")

	// Announcement copies live in the recipients' conversations with the
	// sender: their rooms too.
	joined, _, err := st.Rooms(ctx, db.admin.ID)
	must("rooms", err)
	for _, r := range joined {
		if !slices.Contains(db.rooms, r.ID) {
			db.rooms = append(db.rooms, r.ID)
		}
	}
	return db
}

// readBack is what people see of db through the store: equal on both
// engines after a migration.
func readBack(t *testing.T, st *store.Store, db chatDB) map[string]any {
	t.Helper()
	ctx := t.Context()
	got := map[string]any{}
	put := func(key string, vals ...any) {
		t.Helper()
		if err, _ := vals[len(vals)-1].(error); err != nil {
			t.Fatalf("read back %s: %v", key, err)
		}
		got[key] = vals[:len(vals)-1]
	}
	users := []chat.User{db.admin, db.alice, db.bob, db.carol, db.guest}
	for _, u := range users {
		joined, others, err := st.Rooms(ctx, u.ID)
		put("rooms of "+u.Name, joined, others, err)
		byID, err := st.UserByID(ctx, u.ID)
		put("user "+u.Name, byID, err)
		mentions, more, err := st.MentionsOf(ctx, u.ID, 0, 50)
		put("mentions of "+u.Name, mentions, more, err)
		peers, err := st.DirectPeers(ctx, u.ID)
		put("peers of "+u.Name, peers, err)
		missed, err := st.Missed(ctx, u.ID, 0, 100)
		put("missed by "+u.Name, missed, err)
	}
	people, err := st.People(ctx, chat.PeopleQuery{Deactivated: true, Limit: 100})
	put("people", people, err)
	changes, err := st.ProfileChanges(ctx, "alice", 10)
	put("profile changes", changes, err)
	for _, room := range db.rooms {
		msgs, more, err := st.History(ctx, room, 0, 100)
		put(fmt.Sprint("history ", room), msgs, more, err)
		members, err := st.Members(ctx, room)
		put(fmt.Sprint("members ", room), members, err)
		for _, m := range msgs {
			// Someone in the room: its messages are not found for others.
			by := db.admin
			if ok, _ := st.IsMember(ctx, room, by.ID); !ok {
				by, _ = st.UserByID(ctx, m.AuthorID)
			}
			msg, ok, edits, err := st.Message(ctx, room, m.ID, by)
			put(fmt.Sprint("message ", m.ID), msg, ok, edits, err)
		}
	}
	// Found messages only: engines rank and cut snippets their own way.
	hits, more, err := st.Search(ctx, db.alice.ID, chat.SearchQuery{Words: []string{"zebra"}})
	found := make([]chat.Message, len(hits))
	for i, h := range hits {
		found[i] = h.Message
	}
	slices.SortFunc(found, func(a, b chat.Message) int { return int(a.ID - b.ID) })
	put("search", found, more, err)
	data, ok, err := st.Sessions().FindCtx(ctx, db.session)
	put("session", data, ok, err)
	signIn, err := st.SignInLinkUser(ctx, db.signIn)
	put("sign-in link", signIn, err)
	invite, err := st.InviteFor(ctx, db.invite, db.carol.ID)
	put("invite", invite, err)
	links, err := st.InviteLinks(ctx, db.rooms[1], db.alice)
	put("invite links", links, err)
	sites, err := st.Sites(ctx)
	put("sites", sites, err)
	origins, err := st.EmbedOrigins(ctx, db.rooms[0])
	put("embed origins", origins, err)
	sent, err := st.Announcements(ctx, db.admin, 10)
	put("announcements", sent, err)
	for _, a := range sent {
		rcpt, err := st.Recipients(ctx, a.ID, 0, 10)
		put(fmt.Sprint("recipients ", a.ID), rcpt, err)
	}
	latest, err := st.LatestID(ctx)
	put("latest id", latest, err)
	return got
}

func TestMigrateDBCopiesEverything(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	path := filepath.Join(dir, "chat.db")
	db := seedSQLite(t, path)
	lite, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := readBack(t, lite, db)
	if err := lite.Close(); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"session", "search", "sign-in link", "invite"} {
		if reflect.ValueOf(want[k]).Index(0).Interface() == nil {
			t.Fatalf("seed: %s reads back nothing", k)
		}
	}
	// SQLite's event counter may stand above every stored id (an event
	// id taken by a change since overwritten): streams resume from it.
	lastEvent := bumpEventCounter(t, path, 5)

	url := pgtest.URL(t)
	var out bytes.Buffer
	start := time.Now()
	if err := run(ctx, []string{"migrate-db", "-from", path, "-to", url}, os.Getenv, &out); err != nil {
		t.Fatalf("migrate-db: %v\n%s", err, out.String())
	}
	t.Logf("migrate-db took %v:\n%s", time.Since(start), out.String())
	for _, line := range []string{"users", "messages", "reactions", "read_marks", "rows/s"} {
		if !strings.Contains(out.String(), line) {
			t.Errorf("report lacks %q", line)
		}
	}

	pg := openPostgresStore(t, url)
	got := readBack(t, pg, db)
	for k, w := range want {
		if g := got[k]; !reflect.DeepEqual(g, w) {
			t.Errorf("%s differs after the migration:\nsqlite:   %+v\npostgres: %+v", k, w, g)
		}
	}
	m, err := pg.PostMessage(ctx, db.rooms[0], db.alice, "first post on PostgreSQL", "")
	if err != nil {
		t.Fatal(err)
	}
	if m.ID <= lastEvent {
		t.Errorf("new message id %d, want above SQLite's last event id %d", m.ID, lastEvent)
	}
	checkUnreadable(t, pg, db, url)
}

// checkUnreadable checks the rows no read of the store shows: a spent
// embed token, an ended session, the copied tables' triggers back on.
func checkUnreadable(t *testing.T, pg *store.Store, db chatDB, url string) {
	ctx := t.Context()
	site, _, err := pg.Site(ctx, db.site)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	claims := chat.EmbedClaims{Site: site.ID, Sub: "reader-7", Name: "Gina", Iat: now.Unix(), Exp: now.Add(5 * time.Minute).Unix(), Nonce: "n-1"}
	if _, err := pg.EmbedSignIn(ctx, site, claims, db.rooms[0]); err == nil {
		t.Error("an embed token spent on SQLite worked again on PostgreSQL")
	}
	if err := pg.Sessions().CommitCtx(ctx, "ended", []byte("x"), now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := pg.Sessions().FindCtx(ctx, "ended"); ok || err != nil {
		t.Errorf("a session ended on SQLite was stored again on PostgreSQL (%v)", err)
	}
	raw, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var off int
	if err := raw.QueryRowContext(ctx, `SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal AND tgenabled = 'D'`).Scan(&off); err != nil || off != 0 {
		t.Errorf("%d triggers left disabled (%v)", off, err)
	}
}

func TestMigrateDBRefuses(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	path := filepath.Join(dir, "chat.db")
	seedSmall(t, path)

	t.Run("missing file", func(t *testing.T) {
		missing := filepath.Join(dir, "nope.db")
		err := migrateDB(ctx, []string{"-from", missing, "-to", "postgres://127.0.0.1:1/x"}, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), "no such file") {
			t.Errorf("got %v, want a no such file error", err)
		}
		if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("the missing file was created: %v", err)
		}
	})
	t.Run("target in use", func(t *testing.T) {
		url := pgtest.URL(t)
		pg := openPostgresStore(t, url)
		if _, err := pg.CreateUser(ctx, "zoe", "h"); err != nil {
			t.Fatal(err)
		}
		err := migrateDB(ctx, []string{"-from", path, "-to", url}, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), "already holds users or messages") {
			t.Fatalf("got %v, want a refusal", err)
		}
		if people, err := pg.People(ctx, chat.PeopleQuery{Limit: 10}); err != nil || len(people) != 1 {
			t.Errorf("target has %d people (%v), want zoe alone", len(people), err)
		}
	})
	t.Run("columns only one side has", func(t *testing.T) {
		lite, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{`ALTER TABLE users ADD COLUMN nickname TEXT`, `ALTER TABLE users DROP COLUMN password_hash`} {
			if _, err := lite.Exec(q); err != nil {
				t.Fatal(err)
			}
		}
		lite.Close()
		url := pgtest.URL(t)
		err = migrateDB(ctx, []string{"-from", path, "-to", url}, &bytes.Buffer{})
		for _, want := range []string{"users.nickname is missing from PostgreSQL", "users.password_hash is missing from the SQLite file and has no default"} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("got %v, want %q", err, want)
			}
		}
		if people, err := openPostgresStore(t, url).People(ctx, chat.PeopleQuery{Limit: 10}); err != nil || len(people) != 0 {
			t.Errorf("target has %d people (%v), want none", len(people), err)
		}
	})
}

// seedSmall makes an SQLite database with one user and one message.
func seedSmall(t *testing.T, path string) {
	t.Helper()
	st, err := store.Open(t.Context(), path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	u, err := st.CreateUser(t.Context(), "ann", "h")
	if err != nil {
		t.Fatal(err)
	}
	r, err := st.CreateRoom(t.Context(), u, "lobby", "")
	if err == nil {
		_, err = st.PostMessage(t.Context(), r.ID, u, "hi", "")
	}
	if err != nil {
		t.Fatal(err)
	}
}

// bumpEventCounter moves SQLite's event id counter n past the newest
// event and returns it.
func bumpEventCounter(t *testing.T, path string, n int) int64 {
	t.Helper()
	lite, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	var seq int64
	if err := lite.QueryRow(`UPDATE sqlite_sequence SET seq = seq + ? WHERE name = 'messages' RETURNING seq`, n).Scan(&seq); err != nil {
		t.Fatal(err)
	}
	return seq
}

func openPostgresStore(t *testing.T, url string) *store.Store {
	t.Helper()
	eng, err := postgres.Open(t.Context(), url, postgres.Options{ReadConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.OpenEngine(context.WithoutCancel(t.Context()), eng, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestMigrateDBPlanOrder(t *testing.T) {
	table := func(name string, nullable bool, fks ...foreignKey) *pgTable {
		t := &pgTable{name: name, pk: []string{"id"}, fks: fks, cols: []pgColumn{{name: "id", typ: "bigint"}}}
		for _, fk := range fks {
			t.cols = append(t.cols, pgColumn{name: fk.cols[0], typ: "bigint", nullable: nullable})
		}
		return t
	}
	ref := func(col, to string) foreignKey { return foreignKey{cols: []string{col}, ref: to} }
	tests := []struct {
		name   string
		tables []*pgTable
		want   string // order, deferred columns in brackets
	}{
		{"chain", []*pgTable{table("c", false, ref("b_id", "b")), table("b", false, ref("a_id", "a")), table("a", false)}, "a b c"},
		{"self reference", []*pgTable{table("m", true, ref("reply_to", "m"))}, "m"},
		{"nullable cycle", []*pgTable{
			table("users", true, ref("site_id", "sites")),
			table("sites", false, ref("created_by", "users")),
			table("rooms", false, ref("created_by", "users")),
		}, "users[site_id] rooms sites"},
		{"not null cycle", []*pgTable{table("a", false, ref("b_id", "b")), table("b", false, ref("a_id", "a"))}, "error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tables := map[string]*pgTable{}
			for _, tb := range tt.tables {
				tables[tb.name] = tb
			}
			plan, err := planOrder(tables)
			var got []string
			for _, tc := range plan {
				s := tc.name
				if len(tc.deferred) > 0 {
					s += "[" + strings.Join(tc.deferred, ",") + "]"
				}
				got = append(got, s)
			}
			if err != nil {
				got = []string{"error"}
			}
			if g := strings.Join(got, " "); g != tt.want {
				t.Errorf("got %q (%v), want %q", g, err, tt.want)
			}
		})
	}
}
