// Command rtmessenger runs the RT Messenger chat server.
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
	"github.com/rtmessenger/rtmessenger/connlimit"
	"github.com/rtmessenger/rtmessenger/handlers"
	"github.com/rtmessenger/rtmessenger/hub"
	"github.com/rtmessenger/rtmessenger/hub/redisbus"
	"github.com/rtmessenger/rtmessenger/metrics"
	"github.com/rtmessenger/rtmessenger/ratelimit"
	"github.com/rtmessenger/rtmessenger/static"
	"github.com/rtmessenger/rtmessenger/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "rtmessenger:", err)
		os.Exit(1)
	}
}

// shutdownGrace bounds a graceful stop: streams are ended, in-flight posts
// finish, the database closes. It leaves room under the 5 s that process
// supervisors commonly allow before they kill.
const shutdownGrace = 4 * time.Second

// run is the whole program. With no command it serves until ctx ends and
// shutdown is done; `migrate-db` copies an SQLite database into
// PostgreSQL, `backup` and `restore` copy an SQLite database and put a copy
// back, `admin` manages accounts.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) > 0 {
		if cmd, ok := commands[args[0]]; ok {
			return cmd(ctx, args[1:], stdout)
		}
	}
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		return fmt.Errorf("unknown command %q: the commands are %s; the server itself takes only flags (-h lists them)",
			args[0], strings.Join(slices.Sorted(maps.Keys(commands)), ", "))
	}
	cfg, err := parseConfig(args, getenv, stdout)
	if err != nil {
		return err
	}
	if cfg.showVersion {
		fmt.Fprintln(stdout, "rtmessenger", buildVersion())
		return nil
	}
	logs := newLogBuffer(stdout, 50*time.Millisecond)
	defer logs.Flush()
	log := newLogger(cfg, logs)
	ensureProcs(cfg.syncFull, log)

	meter := metrics.New() // served on -debug-addr only
	var st *store.Store    // opened below, before any stream can connect
	lightMode := func(user int64) bool {
		u, err := st.UserByID(context.Background(), user)
		return err == nil && u.Light
	}
	streams := hub.New(hub.Options{Heartbeat: cfg.heartbeat, MaxConnsPerSession: cfg.maxTabs, MaxSessionsPerUser: cfg.maxBrowsers, WSOrigins: splitList(cfg.wsOrigins), Logger: log, Meter: meter.Hub(),
		RenderTyping: handlers.RenderTyping, RenderPresence: handlers.RenderPresence, AwayAfter: cfg.awayAfter, Light: lightMode,
		StreamPrimer: handlers.StreamPrimer(), AcceptsGzip: static.AcceptsGzip})
	// One node: the relay publishes to the hub. Several: to the bus, which
	// publishes to this hub and every other node's.
	var fanout handlers.Fanout = streams
	var bus *redisbus.Bus
	var relay *handlers.Relay // made below; the bus hears nothing before Start
	if cfg.bus != "" {
		if bus, err = openBus(cfg, streams, func(ctx context.Context, fn func(chat.Membership)) error {
			return st.Memberships(ctx, fn)
		}, func(id int64) { relay.Delivered(id) }, log); err != nil {
			streams.Close(ctx)
			return err
		}
		defer closeBus(bus, log) // after the deferred st.Close: nothing is published after it
		fanout = bus
	}
	relay = handlers.NewRelay(fanout, log)
	relay.MeterWaits(meter.RelayWaited)
	existed := sqliteFileExists(cfg.db)
	st, err = openStore(ctx, cfg.db, store.Options{SyncFull: cfg.syncFull, OnCommit: relay.Committed, OnReceipts: relay.Receipts, OnReads: relay.Reads, OnOutsideChange: streams.CheckSessions,
		Logger: log, Meter: meter})
	if err != nil {
		relay.Close()
		streams.Close(ctx)
		return err
	}
	defer st.Close()
	relay.Record(st)
	defer relay.Close() // before the deferred st.Close: it records deliveries there
	// Typing and presence events carry the newest message id as theirs.
	latest, err := st.LatestID(ctx)
	if err != nil {
		streams.Close(ctx)
		return err
	}
	streams.SetLatestID(latest)
	adminNote, err := firstAdminNote(ctx, st, cfg.db, existed)
	if err != nil {
		streams.Close(ctx)
		return err
	}
	// The hub must know every membership before the first stream connects.
	if err := st.Memberships(ctx, func(m chat.Membership) { streams.Join(m.RoomID, m.UserID) }); err != nil {
		streams.Close(ctx)
		return err
	}
	deps := handlers.Deps{Streams: streams, Live: streams}
	if bus != nil {
		bus.Start()
		deps.Streams, deps.Live, deps.Bus = busStreams{streams, bus}, busStreams{streams, bus}, bus
		deps.ReplayFrom = bus.ReplayFrom
	}
	limits := handlers.Limits{
		LoginPerIP: ratelimit.New(cfg.loginRate/60, int(5*cfg.loginRate)),
		// Ten failed log-ins per account, then one more every 90 seconds.
		LoginPerAccount: ratelimit.New(1.0/90, 10),
		Posts:           ratelimit.New(cfg.postRate, cfg.postBurst),
		Streams:         ratelimit.New(cfg.streamRate/60, 30),
		Announcements:   ratelimit.New(cfg.announceRate/3600, 5),
		// Pages send one every 3 s while typing; a few tabs may type at once.
		Typing: ratelimit.New(1, 5),
	}
	watch(meter, streams, st, relay, bus, limits)

	h := handlers.New(handlers.Deps{
		Store:           st,
		Streams:         deps.Streams,
		Bus:             deps.Bus,
		ReplayFrom:      deps.ReplayFrom,
		Fragments:       relay.Fragments(),
		Embeds:          st,
		Sessions:        st.Sessions(),
		Logger:          log,
		SecureCookies:   cfg.secureCookies,
		PublicURL:       strings.TrimSuffix(cfg.publicURL, "/"),
		ListenAddr:      cfg.addr,
		ReplayLimit:     cfg.replayLimit,
		Heartbeat:       cfg.heartbeat,
		Password:        handlers.PasswordParams{MemoryKiB: uint32(cfg.passwordKiB), Passes: 2, Lanes: 1},
		SessionIdle:     cfg.sessionIdle,
		SessionLifetime: cfg.sessionLife,
		TrustProxy:      cfg.trustProxy,
		OnSignedIn:      func(r *http.Request) { connlimit.Trust(r.Context()) },
		Live:            deps.Live,
		Peers:           st,
		Limits:          limits,
		Meter:           meter,
	})
	tcp, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		streams.Close(ctx)
		return err
	}
	ln := limitStrangers(tcp, cfg, log)
	var busy inflight
	srv := &http.Server{
		ConnContext: ln.ConnContext,
		Handler:     busy.count(h.Routes()),
		// No ReadTimeout or WriteTimeout: they would cut every open stream.
		// Headers must arrive promptly; bodies get their own deadline.
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	scheme := "http"
	if cfg.tlsCert != "" {
		scheme = "https"
	}
	log.Info("listening", "url", scheme+"://"+ln.Addr().String(), "db", redactURL(cfg.db), "bus", cmp.Or(redactURL(cfg.bus), "in-process"), "version", buildVersion())
	announceReady(log, cfg, scheme, ln.Addr(), adminNote)

	if cfg.debugAddr != "" {
		dl, err := net.Listen("tcp", cfg.debugAddr)
		if err != nil {
			streams.Close(ctx)
			return fmt.Errorf("-debug-addr: %w", err)
		}
		dbg := &http.Server{Handler: debugHandler(streams, st, relay, meter.Handler()), ReadHeaderTimeout: 10 * time.Second}
		go dbg.Serve(dl)
		defer dbg.Close()
		log.Info("debug endpoints", "url", "http://"+dl.Addr().String()+"/debug/", "metrics", "http://"+dl.Addr().String()+"/metrics")
	}

	served := make(chan error, 1)
	go func() {
		if cfg.tlsCert != "" {
			served <- srv.ServeTLS(ln, cfg.tlsCert, cfg.tlsKey)
			return
		}
		served <- srv.Serve(ln)
	}()
	var sweeper sync.WaitGroup
	defer sweeper.Wait() // before the deferred st.Close
	sweeper.Go(func() { sweepSessions(ctx, st, log) })
	if cfg.retentionDays > 0 {
		sweeper.Go(func() { purgeOldMessages(ctx, st, cfg.retentionDays, log) })
	}

	select {
	case err := <-served:
		streams.Close(context.Background())
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	start := time.Now()
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	shut := make(chan error, 1)
	go func() { shut <- srv.Shutdown(sctx) }() // stops accepting, waits for handlers
	// What was committed goes out on the open streams before they end
	// (what is not yet would reach them anyway, replayed on reconnect).
	if err := relay.Sync(sctx); err != nil {
		log.Warn("stream relay did not catch up in time", "err", err)
	}
	if err := streams.Close(sctx); err != nil {
		log.Warn("streams did not end in time", "err", err)
	}
	log.Debug("streams ended", "after", time.Since(start))
	busy.drain(sctx, srv, shut, log)
	log.Info("stopped", "after", time.Since(start))
	return nil
}

// commands are the subcommands: run's first argument, when it names one.
var commands = map[string]func(ctx context.Context, args []string, stdout io.Writer) error{
	"migrate-db": migrateDB,
	"backup":     backupCmd,
	"restore":    restoreCmd,
	"admin": func(ctx context.Context, args []string, stdout io.Writer) error {
		return adminCmd(ctx, args, os.Stdin, stdout)
	},
}

// inflight counts running handlers, so shutdown knows when the work is done.
type inflight struct{ n atomic.Int64 }

func (f *inflight) count(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.n.Add(1)
		defer f.n.Add(-1)
		next.ServeHTTP(w, r)
	})
}

// drain waits for srv.Shutdown. Once no handler runs, it closes what is
// left: Shutdown would otherwise wait up to 5 s for connections that were
// opened but never sent a request.
func (f *inflight) drain(ctx context.Context, srv *http.Server, shut <-chan error, log *slog.Logger) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-shut:
			if err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Warn("shutdown incomplete", "err", err)
			}
			return
		case <-tick.C:
			if f.n.Load() == 0 {
				srv.Close()
			}
		case <-ctx.Done():
			log.Warn("handlers still running at the deadline; closing their connections", "handlers", f.n.Load())
			srv.Close()
			<-shut
			return
		}
	}
}

// sweepSessions deletes expired sessions now and then.
func sweepSessions(ctx context.Context, st *store.Store, log *slog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if n, err := st.DeleteExpiredSessions(ctx); err != nil && ctx.Err() == nil {
			log.Warn("sweep sessions", "err", err)
		} else if n > 0 {
			log.Debug("swept sessions", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// limitStrangers caps the connections held by clients that have not shown
// a signed-in session (connlimit). Behind a proxy every peer address is the
// proxy's, so only the total applies there.
func limitStrangers(l net.Listener, cfg config, log *slog.Logger) *connlimit.Listener {
	opt := connlimit.Options{PerAddress: cfg.anonPerIP, Total: cfg.anonTotal}
	if cfg.trustProxy {
		opt.PerAddress = 0
	}
	if cfg.tlsCert == "" {
		opt.Refusal = []byte("HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 5\r\n" +
			"Content-Type: text/plain; charset=utf-8\r\nContent-Length: 40\r\n\r\nToo many connections; try again shortly.")
	}
	var lastWarn atomic.Int64
	opt.OnRefuse = func(addr string) {
		// At most one line a minute: a flood must not flood the log too.
		now := time.Now().Unix()
		if last := lastWarn.Load(); now-last >= 60 && lastWarn.CompareAndSwap(last, now) {
			log.Warn("refusing connections: too many from strangers", "addr", addr)
		}
	}
	return connlimit.Wrap(l, opt)
}
