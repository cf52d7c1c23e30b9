package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"time"
)

// config is the server's configuration: flags, each with an RTM_* environment
// fallback, and defaults that make `make run` work with no set-up at all.
type config struct {
	addr          string
	db            string
	syncFull      bool
	replayLimit   int
	secureCookies bool
	heartbeat     time.Duration
	maxTabs       int
	passwordKiB   uint
	logLevel      slog.Level
}

func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("rtmessenger", flag.ContinueOnError)
	fs.SetOutput(stderr)
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	fs.StringVar(&c.addr, "addr", env("RTM_ADDR", "127.0.0.1:8080"), "listen address (RTM_ADDR)")
	fs.StringVar(&c.db, "db", env("RTM_DB", "data/rtmessenger.db"), "SQLite database file, created if missing (RTM_DB)")
	fs.BoolVar(&c.syncFull, "sync-full", envBool(env("RTM_SYNC_FULL", "")), "fsync every commit: survives power loss, slower writes (RTM_SYNC_FULL)")
	fs.IntVar(&c.replayLimit, "replay-limit", envInt(env("RTM_REPLAY_LIMIT", ""), 1000), "most messages replayed to a reconnecting stream; beyond it the page reloads (RTM_REPLAY_LIMIT)")
	fs.BoolVar(&c.secureCookies, "secure-cookies", envBool(env("RTM_SECURE_COOKIES", "")), "mark the session cookie Secure: set when served over HTTPS (RTM_SECURE_COOKIES)")
	fs.DurationVar(&c.heartbeat, "heartbeat", 15*time.Second, "interval of keep-alive comments on idle streams")
	fs.IntVar(&c.maxTabs, "max-tabs", envInt(env("RTM_MAX_TABS", ""), 10), "most open streams (tabs) per user (RTM_MAX_TABS)")
	fs.UintVar(&c.passwordKiB, "password-memory", 19*1024, "argon2id memory per password hash in KiB; lower only for tests")
	level := fs.String("log-level", env("RTM_LOG_LEVEL", "info"), "log level: debug, info, warn, error (RTM_LOG_LEVEL)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if err := c.logLevel.UnmarshalText([]byte(*level)); err != nil {
		return c, fmt.Errorf("-log-level: %w", err)
	}
	if c.replayLimit < 1 || c.heartbeat <= 0 || c.passwordKiB < 8 || c.maxTabs < 1 {
		return c, fmt.Errorf("-replay-limit, -heartbeat, -max-tabs and -password-memory must be positive")
	}
	return c, nil
}

func envBool(v string) bool {
	b, _ := strconv.ParseBool(v)
	return b
}

func envInt(v string, def int) int {
	if n, err := strconv.Atoi(v); err == nil {
		return n
	}
	return def
}
