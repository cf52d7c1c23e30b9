package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/rtmessenger/rtmessenger/store"
	"github.com/rtmessenger/rtmessenger/store/postgres"
)

const backupHelp = `Usage: rtmessenger backup -db FILE.db -out BACKUP.db

Writes a consistent copy of the SQLite database to a new file, while the
server keeps running and writing: the copy holds everything committed
before it began. It is checked (PRAGMA integrity_check) before it takes
its name, so BACKUP.db is either complete or absent. For a postgres://
database use pg_dump instead.

`

const restoreHelp = `Usage: rtmessenger restore -from BACKUP.db -db FILE.db

Replaces the SQLite database with a backup: stop the server, restore,
start the server. The backup is checked first (PRAGMA integrity_check);
the restore is refused while a server or admin command has the database
open, and a server started during it waits its turn by failing to start.
The replacement is atomic: FILE.db is the old database or the backup,
never a mixture. Pages still open on the old data reload themselves.

`

// backupCmd is the `backup` command (see backupHelp).
func backupCmd(ctx context.Context, args []string, stdout io.Writer) error {
	fl := newCommandFlags("backup", backupHelp, stdout)
	db := fl.String("db", "", "the SQLite database file to copy (required)")
	out := fl.String("out", "", "the backup file to write; must not exist (required)")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if *db == "" || *out == "" || fl.NArg() > 0 {
		return errors.New("backup: want -db FILE.db -out BACKUP.db (see backup -h)")
	}
	if err := sqliteOnly("backup", *db); err != nil {
		return err
	}
	start := time.Now()
	info, err := store.Backup(ctx, *db, *out)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "backup: wrote %s (%s, schema version %d, events up to %d) in %s; integrity check ok\n",
		info.Path, megabytes(info.Bytes), info.SchemaVersion, info.LatestEvent, time.Since(start).Round(time.Millisecond))
	return err
}

// restoreCmd is the `restore` command (see restoreHelp).
func restoreCmd(ctx context.Context, args []string, stdout io.Writer) error {
	fl := newCommandFlags("restore", restoreHelp, stdout)
	from := fl.String("from", "", "the backup file to restore (required)")
	db := fl.String("db", "", "the SQLite database file to replace (required)")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if *from == "" || *db == "" || fl.NArg() > 0 {
		return errors.New("restore: want -from BACKUP.db -db FILE.db (see restore -h)")
	}
	if err := sqliteOnly("restore", *db); err != nil {
		return err
	}
	info, err := store.Restore(ctx, *from, *db)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "restore: %s now holds %s (%s, schema version %d, events up to %d); start the server\n",
		*db, info.Path, megabytes(info.Bytes), info.SchemaVersion, info.LatestEvent)
	return err
}

// sqliteOnly refuses a -db the command cannot work on: PostgreSQL has
// its own tools, which also copy a live database consistently.
func sqliteOnly(cmd, db string) error {
	if postgres.IsURL(db) {
		return fmt.Errorf("%s: -db %s is a PostgreSQL database: use PostgreSQL's own tools, pg_dump -Fc (a consistent copy while the server runs) and pg_restore (see README, Backups)", cmd, redactURL(db))
	}
	if strings.Contains(db, "://") {
		return fmt.Errorf("%s: -db %s: want an SQLite file path", cmd, redactURL(db))
	}
	return nil
}

// newCommandFlags is the flag set of a command, printing help on -h.
func newCommandFlags(name, help string, stdout io.Writer) *flag.FlagSet {
	fl := flag.NewFlagSet("rtmessenger "+name, flag.ContinueOnError)
	fl.SetOutput(stdout)
	fl.Usage = func() {
		fmt.Fprint(fl.Output(), help)
		fl.PrintDefaults()
	}
	return fl
}

func megabytes(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }
