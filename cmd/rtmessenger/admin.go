package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/rtmessenger/rtmessenger/chat"
	"github.com/rtmessenger/rtmessenger/store"
	"github.com/rtmessenger/rtmessenger/store/postgres"
)

const adminHelp = `Usage: rtmessenger admin -db FILE.db [flags] COMMAND [ARGUMENT]

Changes accounts and lists rooms, safely while the server runs: it works
through the store as the server does, and a running server notices within
a second (its cache is flushed), so ended sessions stop working there
and open pages of a deactivated account are signed out at their next
heartbeat. Changes are recorded in each person's audit trail as made by
"command line".

Commands:
  create-admin NAME   a new account that is an admin; its password comes
                      from -password-file, else the terminal (asked twice),
                      else the first line of standard input, never from
                      the command line
  grant-admin NAME    make an account an admin of the site
  revoke-admin NAME   make an admin an ordinary account
  sign-in-link NAME   a one-time link (valid 7 days) with which NAME sets
                      a new password and signs in: for someone who forgot
                      theirs. It replaces any unused earlier link. Needs
                      -public-url.
  deactivate NAME     NAME can no longer sign in; their sessions end
  reactivate NAME     undo deactivate
  end-sessions NAME   sign NAME out everywhere
  rooms               every public and private room, with its members
  members ROOM        the members of a room (its name, or its id)

Flags:
`

// adminCommand is one command of `admin`: how many arguments it takes
// and what it does.
type adminCommand struct {
	args int
	run  func(ctx context.Context, a *adminRun, arg string) error
}

var adminCommands = map[string]adminCommand{
	"create-admin": {1, createAdmin},
	"grant-admin":  {1, func(ctx context.Context, a *adminRun, name string) error { return a.setAdmin(ctx, name, true) }},
	"revoke-admin": {1, func(ctx context.Context, a *adminRun, name string) error { return a.setAdmin(ctx, name, false) }},
	"sign-in-link": {1, signInLink},
	"deactivate":   {1, func(ctx context.Context, a *adminRun, name string) error { return a.setActive(ctx, name, false) }},
	"reactivate":   {1, func(ctx context.Context, a *adminRun, name string) error { return a.setActive(ctx, name, true) }},
	"end-sessions": {1, endSessions},
	"rooms":        {0, listRooms},
	"members":      {1, listMembers},
}

// adminRun is what a command works with.
type adminRun struct {
	st           *store.Store
	out          io.Writer
	stdin        io.Reader
	passwordFile string
	publicURL    string
}

// adminCmd is the `admin` command (see adminHelp). stdin is where a
// password is read from when no -password-file is given.
func adminCmd(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	fl := newCommandFlags("admin", adminHelp, stdout)
	db := fl.String("db", "", "the database: an SQLite file or a postgres:// URL (required)")
	a := &adminRun{out: stdout, stdin: stdin}
	fl.StringVar(&a.passwordFile, "password-file", "", "create-admin: read the password from this file (- for standard input)")
	fl.StringVar(&a.publicURL, "public-url", "", "sign-in-link: the site's address as people reach it (https://chat.example.com)")
	if err := fl.Parse(args); err != nil {
		return err
	}
	name, cmd, arg, err := adminCommandOf(fl.Args())
	if err != nil {
		return err
	}
	if *db == "" {
		return errors.New("admin: -db is required: the server's database (see admin -h)")
	}
	if name == "sign-in-link" {
		if err := checkPublicURL(a.publicURL); err != nil || a.publicURL == "" {
			return errors.New("admin sign-in-link: -public-url is required, the address people open (such as https://chat.example.com)")
		}
		a.publicURL = strings.TrimSuffix(a.publicURL, "/")
	}
	if a.st, err = openAdminStore(ctx, *db); err != nil {
		return fmt.Errorf("admin: %w", err)
	}
	defer a.st.Close()
	if err := cmd.run(ctx, a, arg); err != nil {
		return fmt.Errorf("admin %s: %w", name, readable(err))
	}
	return nil
}

// adminCommandOf picks the command and its argument out of what follows
// the flags.
func adminCommandOf(args []string) (name string, cmd adminCommand, arg string, err error) {
	if len(args) == 0 {
		return "", cmd, "", fmt.Errorf("admin: which command? one of %s (see admin -h)", strings.Join(adminCommandNames(), ", "))
	}
	name = args[0]
	cmd, ok := adminCommands[name]
	if !ok {
		return "", cmd, "", fmt.Errorf("admin: no command %q; the commands are %s (see admin -h)", name, strings.Join(adminCommandNames(), ", "))
	}
	if len(args)-1 != cmd.args {
		if cmd.args == 0 {
			return "", cmd, "", fmt.Errorf("admin %s takes no argument (flags go before the command)", name)
		}
		return "", cmd, "", fmt.Errorf("admin %s takes one argument (flags go before the command)", name)
	}
	if cmd.args == 1 {
		arg = args[1]
	}
	return name, cmd, arg, nil
}

func adminCommandNames() []string {
	return slices.Sorted(maps.Keys(adminCommands))
}

// openAdminStore opens the server's database as the server does, but an
// SQLite file only if it exists with this build's schema (see
// store.CheckFileSchema).
func openAdminStore(ctx context.Context, db string) (*store.Store, error) {
	if !postgres.IsURL(db) && !strings.Contains(db, "://") {
		if err := store.CheckFileSchema(ctx, db); err != nil {
			return nil, fmt.Errorf("-db %w", err)
		}
	}
	return openStore(ctx, db, store.Options{})
}

// readable is err as a person reads it: a refusal's own words (the
// store's, for people), anything else as it is.
func readable(err error) error {
	if chat.CodeOf(err) != chat.Internal {
		return errors.New(chat.ErrorText(err))
	}
	return err
}
