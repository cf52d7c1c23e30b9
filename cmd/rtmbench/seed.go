package main

import (
	"context"
	"fmt"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
	"github.com/rtmessenger/rtmessenger/internal/pwhash"
	"github.com/rtmessenger/rtmessenger/internal/sessiondata"
	"github.com/rtmessenger/rtmessenger/store"
	"github.com/rtmessenger/rtmessenger/store/postgres"
)

const (
	// benchPassword is every benchmark account's password, so a person can
	// log in as one to look at what a run left.
	benchPassword = "bench-password"
	// benchSessionLifetime outlasts any run: a rerun mints fresh sessions
	// anyway.
	benchSessionLifetime = 30 * 24 * time.Hour
)

// seed makes sure accounts bench0 to bench<n-1> exist in db (an SQLite
// file or a postgres:// URL; a rerun reuses them) and signs each in on a
// fresh session, written straight to the database in the server's own
// format. Every account shares one password hash: hashing thousands would
// take minutes. bench0 is created first, so it is the admin.
func seed(ctx context.Context, db string, n int) ([]*account, error) {
	st, err := openStore(ctx, db)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	hash := pwhash.Hash(benchPassword, pwhash.Params{})
	accts := make([]*account, n)
	for i := range accts {
		accts[i] = &account{name: fmt.Sprintf("bench%d", i), index: i}
	}
	now := time.Now()
	first := func() error { return signIn(ctx, st, accts[0], hash, now) }
	if err := first(); err != nil {
		return nil, err
	}
	var rest []func() error
	for _, a := range accts[1:] {
		rest = append(rest, func() error { return signIn(ctx, st, a, hash, now) })
	}
	// Concurrent creations share the store's group commits.
	return accts, parallel(32, rest)
}

// signIn creates a's account unless it exists, and gives a a new session.
func signIn(ctx context.Context, st *store.Store, a *account, hash string, now time.Time) error {
	u, _, err := st.UserByName(ctx, a.name)
	if chat.CodeOf(err) == chat.NotFound {
		u, err = st.CreateUser(ctx, a.name, hash)
	}
	if err != nil {
		return fmt.Errorf("account %s: %w", a.name, err)
	}
	token, data, expiry, err := sessiondata.Mint(sessiondata.SignedIn(u.ID, now), now, benchSessionLifetime)
	if err != nil {
		return err
	}
	if err := st.Sessions().CommitCtx(ctx, token, data, expiry); err != nil {
		return fmt.Errorf("session of %s: %w", a.name, err)
	}
	a.token = token
	return nil
}

// openStore opens db as the server does (and so migrates it): a
// postgres:// URL is a PostgreSQL database, anything else an SQLite file.
func openStore(ctx context.Context, db string) (*store.Store, error) {
	if !postgres.IsURL(db) {
		return store.Open(ctx, db, store.Options{})
	}
	eng, err := postgres.Open(ctx, db, postgres.Options{})
	if err != nil {
		return nil, err
	}
	return store.OpenEngine(ctx, eng, store.Options{})
}
