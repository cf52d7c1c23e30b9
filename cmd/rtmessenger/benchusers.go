package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/rtmessenger/rtmessenger/handlers"
	"github.com/rtmessenger/rtmessenger/store"
)

// benchUsers is the `bench-users` command: it creates many accounts at once
// (one password hash shared by all, so it takes seconds, not hours) and a
// fresh session for each, written as "username<TAB>cookie value" lines. It
// works on the database directly (an SQLite file or a postgres:// URL, for
// the two-node workload); the load generator runs it before starting the
// server. Never point it at a production database.
func benchUsers(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("rtmessenger bench-users", flag.ContinueOnError)
	db := fs.String("db", "", "SQLite database file or postgres:// URL (required)")
	prefix := fs.String("prefix", "bench", "usernames are <prefix><number>")
	count := fs.Int("count", 1000, "how many accounts")
	password := fs.String("password", "bench-password", "password of every account")
	out := fs.String("sessions", "-", "where to write the sessions (- for standard output)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *db == "" || *count < 1 {
		return errors.New("bench-users: -db and a positive -count are required")
	}
	st, err := openStore(ctx, *db, store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()

	names := make([]string, *count)
	for i := range names {
		names[i] = fmt.Sprintf("%s%d", *prefix, i)
	}
	hash := handlers.HashPassword(*password, handlers.PasswordParams{})
	users, err := st.EnsureUsers(ctx, names, hash)
	if err != nil {
		return err
	}
	now := time.Now()
	sessions := make([]store.Session, len(users))
	for i, u := range users {
		token, data, expiry, err := handlers.MintSession(u.ID, now, 30*24*time.Hour)
		if err != nil {
			return err
		}
		sessions[i] = store.Session{Token: token, Data: data, Expiry: expiry}
	}
	if err := st.CommitSessions(ctx, sessions); err != nil {
		return err
	}

	w := stdout
	if *out != "-" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriter(w)
	for i, u := range users {
		fmt.Fprintf(bw, "%s\t%d\t%s\n", u.Name, u.ID, sessions[i].Token)
	}
	return bw.Flush()
}
