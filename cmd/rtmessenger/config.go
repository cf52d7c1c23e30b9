package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"time"
)

// config is the server's configuration. Every flag can also come from the
// environment as RTM_ plus its name in capitals (-max-tabs: RTM_MAX_TABS);
// a flag on the command line wins. The defaults make `make run` work with
// no set-up at all.
type config struct {
	addr          string
	db            string
	bus           string
	syncFull      bool
	replayLimit   int
	secureCookies bool
	tlsCert       string
	tlsKey        string
	trustProxy    bool
	sessionIdle   time.Duration
	sessionLife   time.Duration
	heartbeat     time.Duration
	awayAfter     time.Duration
	maxTabs       int
	maxBrowsers   int
	postRate      float64
	postBurst     int
	loginRate     float64
	streamRate    float64
	announceRate  float64
	passwordKiB   uint
	debugAddr     string
	wsOrigins     string
	publicURL     string
	anonPerIP     int
	anonTotal     int
	retentionDays int
	logLevel      slog.Level
	logFormat     string
	showVersion   bool
}

func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("rtmessenger", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", "listen address")
	fs.StringVar(&c.db, "db", "data/rtmessenger.db", "SQLite database file (created with its folder if missing), or postgres://user@host:port/db for PostgreSQL, which several nodes can share")
	fs.StringVar(&c.bus, "bus", "", "redis://host:port/db[?channel=name]: share streams with other nodes through this Redis (empty: in-process, one node)")
	fs.BoolVar(&c.syncFull, "sync-full", false, "fsync every commit: survives power loss, slower writes")
	fs.IntVar(&c.replayLimit, "replay-limit", 1000, "most messages replayed to a reconnecting stream; beyond it the page reloads")
	fs.BoolVar(&c.secureCookies, "secure-cookies", false, "Secure, __Host- session cookie: set when users reach the server over HTTPS (via a proxy)")
	fs.StringVar(&c.tlsCert, "tls-cert", "", "serve HTTPS with this certificate file (with -tls-key); implies -secure-cookies")
	fs.StringVar(&c.tlsKey, "tls-key", "", "private key file for -tls-cert")
	fs.BoolVar(&c.trustProxy, "trust-proxy", false, "take client addresses from X-Forwarded-For: only behind a proxy that sets it")
	fs.DurationVar(&c.sessionIdle, "session-idle", 7*24*time.Hour, "log out sessions unused this long")
	fs.DurationVar(&c.sessionLife, "session-lifetime", 30*24*time.Hour, "log out every session this long after log-in")
	fs.DurationVar(&c.heartbeat, "heartbeat", 15*time.Second, "interval of keep-alive comments on idle streams")
	fs.DurationVar(&c.awayAfter, "away-after", 5*time.Minute, "show people as away after this long without activity in any of their pages")
	fs.IntVar(&c.maxTabs, "max-tabs", 4, "most streams one browser may hold when its tabs cannot share one (older browsers)")
	fs.IntVar(&c.maxBrowsers, "max-browsers", 10, "most browsers or devices one user may be live in at once")
	fs.Float64Var(&c.postRate, "post-rate", 5, "messages per second a user may post, sustained (0: no limit)")
	fs.IntVar(&c.postBurst, "post-burst", 20, "messages a user may post at once before -post-rate applies")
	fs.Float64Var(&c.loginRate, "login-rate", 6, "log-in and sign-up attempts per minute per client address (bursts of 5x; 0: no limit)")
	fs.Float64Var(&c.streamRate, "stream-rate", 60, "stream connects per minute per user (bursts of 30; 0: no limit)")
	fs.Float64Var(&c.announceRate, "announce-rate", 30, "announcements per hour a user may send (bursts of 5; 0: no limit)")
	fs.UintVar(&c.passwordKiB, "password-memory", 19*1024, "argon2id memory per password hash in KiB; lower only for tests")
	fs.StringVar(&c.debugAddr, "debug-addr", "", "serve pprof and /debug/vars on this private address (off when empty)")
	fs.StringVar(&c.publicURL, "public-url", "", "the site's address as users reach it (https://chat.example.com), for links the server hands out; empty: taken from a request whose Host names the listen address")
	fs.StringVar(&c.wsOrigins, "ws-origins", "", "comma-separated origins (host patterns) allowed to open /ws besides the site itself")
	fs.IntVar(&c.anonPerIP, "anon-conns-per-ip", 256, "most connections one client address may hold before any request on them is signed in (0: no limit; not applied with -trust-proxy)")
	fs.IntVar(&c.anonTotal, "anon-conns", 4096, "most connections all clients together may hold before any request on them is signed in (0: no limit)")
	fs.IntVar(&c.retentionDays, "retention-days", 0, "delete messages older than this many days, in the background (0: keep them forever)")
	level := fs.String("log-level", "info", "log level: debug, info, warn, error")
	fs.StringVar(&c.logFormat, "log-format", "text", "log format: text (key=value lines) or json (one JSON object a line)")
	fs.BoolVar(&c.showVersion, "version", false, "print the version and exit")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: rtmessenger [flags]\n\nEvery flag may also be set as RTM_<NAME> in the environment (-max-tabs: RTM_MAX_TABS).")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if err := applyEnv(fs, getenv); err != nil {
		return c, err
	}
	if err := c.logLevel.UnmarshalText([]byte(*level)); err != nil {
		return c, fmt.Errorf("-log-level: %w", err)
	}
	if c.logFormat != "text" && c.logFormat != "json" {
		return c, fmt.Errorf("-log-format %q: want text or json", c.logFormat)
	}
	if (c.tlsCert == "") != (c.tlsKey == "") {
		return c, errors.New("-tls-cert and -tls-key go together")
	}
	if c.tlsCert != "" {
		c.secureCookies = true
	}
	if err := checkBus(c.bus); err != nil {
		return c, err
	}
	if err := checkPublicURL(c.publicURL); err != nil {
		return c, err
	}
	if c.replayLimit < 1 || c.heartbeat <= 0 || c.awayAfter <= 0 || c.passwordKiB < 8 || c.maxTabs < 1 || c.maxBrowsers < 1 || c.postBurst < 1 ||
		c.sessionIdle <= 0 || c.sessionLife <= 0 || c.postRate < 0 || c.loginRate < 0 || c.streamRate < 0 || c.announceRate < 0 ||
		c.anonPerIP < 0 || c.anonTotal < 0 || c.retentionDays < 0 {
		return c, errors.New("counts and durations must be positive, rates zero or more")
	}
	return c, nil
}

// checkBus accepts an empty value (in-process) or a redis:// or rediss://
// URL; the bus itself checks the rest.
func checkBus(s string) error {
	if s == "" {
		return nil
	}
	if u, err := url.Parse(s); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
		return fmt.Errorf("-bus %q: want redis://host:port/db (or rediss:// for TLS)", redactURL(s))
	}
	return nil
}

// redactURL hides a password in a -bus or -db URL, for logs and errors.
func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil {
		return u.Redacted()
	}
	return "(unparsable URL)"
}

// checkPublicURL accepts an empty value or a bare http(s) origin.
func checkPublicURL(s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("-public-url %q: want a bare origin such as https://chat.example.com", s)
	}
	return nil
}

// applyEnv sets each flag not given on the command line from RTM_<NAME>.
func applyEnv(fs *flag.FlagSet, getenv func(string) string) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		name := envName(f.Name)
		if v := getenv(name); v != "" && !given[f.Name] {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
			}
		}
	})
	return errors.Join(errs...)
}

func envName(flagName string) string {
	return "RTM_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}
