package main

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"strings"

	"github.com/rtmessenger/rtmessenger/store"
	"github.com/rtmessenger/rtmessenger/store/postgres"
)

// newLogger writes cfg's format at cfg's level to w, through buf (see
// logBuffer).
func newLogger(cfg config, buf *logBuffer) *slog.Logger {
	opt := &slog.HandlerOptions{Level: cfg.logLevel}
	var h slog.Handler = slog.NewTextHandler(buf, opt)
	if cfg.logFormat == "json" {
		h = slog.NewJSONHandler(buf, opt)
	}
	return slog.New(urgentFlush{h, buf})
}

// sqliteFileExists says whether db names an SQLite file that is already
// there (asked before opening it, which creates it).
func sqliteFileExists(db string) bool {
	if postgres.IsURL(db) {
		return false
	}
	_, err := os.Stat(db)
	return !errors.Is(err, fs.ErrNotExist)
}

// firstAdminNote says, while the database holds no account, that the
// first one becomes the admin (store.CreateUser decides so); "" once one
// exists. existed: the SQLite file was there before it was opened.
func firstAdminNote(ctx context.Context, st *store.Store, db string, existed bool) (string, error) {
	has, err := st.HasUsers(ctx)
	switch {
	case err != nil || has:
		return "", err
	case existed || postgres.IsURL(db):
		return "no accounts yet in " + redactURL(db) + ": the first account you create becomes the admin", nil
	}
	return "new database at " + db + ": the first account you create becomes the admin", nil
}

// announceReady tells whoever started the server where to open it, and
// the note about the first admin if there is one.
func announceReady(log *slog.Logger, cfg config, scheme string, addr net.Addr, note string) {
	log.Info("ready: open " + openURL(cfg, scheme, addr))
	if note != "" {
		log.Info(note)
	}
}

// openURL is the address to open in a browser: -public-url, or the listen
// address, with loopback for a listener on every interface.
func openURL(cfg config, scheme string, addr net.Addr) string {
	if cfg.publicURL != "" {
		return strings.TrimSuffix(cfg.publicURL, "/") + "/"
	}
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return scheme + "://" + addr.String() + "/"
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return scheme + "://" + net.JoinHostPort(host, port) + "/"
}
