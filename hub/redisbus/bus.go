// Package redisbus carries the hub's work between nodes over Redis Pub/Sub,
// so that several RT Messenger nodes behind a load balancer serve one chat.
//
// A Bus stands where the hub stands for the relay: it has the hub's publish
// methods (Publish, PublishExcept, PublishTo, Join, Leave) and the session
// ones (EndSession, Disconnect, SetLight). Each call is applied to this
// node's own hub at once, then sent to Redis as one small binary envelope
// holding the already rendered bytes; every other node applies it to its
// own hub, so each node delivers to the members connected to it. A node
// skips its own envelopes. Local delivery therefore never waits on Redis,
// and an outage cannot take events away from the publishing node's own
// streams.
//
// Order: one goroutine per node publishes, pipelining what has queued up,
// and Redis keeps one publisher's order on a channel, so every node applies
// a node's ops in the order that node made them: a join before the message
// it lets through, a leave before the messages it keeps out. Each envelope
// carries the event id (the SSE id, which the hub only ever moves forward)
// and its sender's sequence number: with several writing nodes (PostgreSQL)
// nodes' ops interleave differently on different receivers, which the
// resume-from-the-database path already tolerates.
//
// Outage. The database is the truth, so nothing is queued for Redis while
// it is away: a node whose publish fails drops what it could not send,
// owes the others a resync op, and retries until Redis takes it. The
// subscription pings every PingEvery and is rebuilt when Redis does not
// answer; until it is back the bus reports itself degraded (Health), once
// in the log. Each time the subscription (re)starts, and whenever a resync
// op or a gap in a sender's sequence arrives, the node runs CatchUp: the
// server reloads memberships from the store into the hub and ends every
// open stream cleanly, and each client reconnects with its Last-Event-ID
// and gets a replay of what it missed. Nobody misses a committed message;
// after an outage each client reconnects once or twice.
//
// The bus is for several nodes sharing one PostgreSQL database. SQLite is a
// single-node store: two servers on one SQLite file are not supported,
// with or without a bus.
package redisbus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/rtmessenger/rtmessenger/chat"
)

// Local is this node's hub: what the bus applies ops to.
type Local interface {
	Publish(room, id int64, data []byte)
	PublishExcept(room, except, id int64, data []byte) (reached int)
	PublishTo(user, id int64, data []byte) bool
	PublishSidebar(user, room, id int64, data []byte) bool
	Join(room, user int64)
	Leave(room, user int64)
	EndSession(user int64, session string)
	Disconnect(user int64)
	SetLight(user int64, on bool)
	Typing(room, user int64, name string) bool
	StoppedTyping(room, user int64)
	// Here lists who has a page open on this node; Elsewhere records
	// another node's list, holding until until.
	Here() []chat.Seen
	Elsewhere(seen []chat.Seen, until time.Time)
}

// DefaultChannel is the Pub/Sub channel nodes share unless the URL names
// another (?channel=). Pub/Sub ignores the database number, so deployments
// sharing one Redis need channels of their own.
const DefaultChannel = "rtmessenger:bus"

// Options configure a Bus.
type Options struct {
	// URL is redis://[user:password@]host:port/db, or rediss:// for TLS,
	// optionally with ?channel=name.
	URL string
	// Local is this node's hub.
	Local Local
	// CatchUp brings this node up to date with the database after it may
	// have missed ops: reload memberships into the hub and make every open
	// stream resume from the database (hub.Resync). It runs on the
	// receiving goroutine; an error is logged and the subscription is
	// rebuilt, which runs it again.
	CatchUp func(ctx context.Context) error
	Logger  *slog.Logger
	// PingEvery is how long the subscription may be silent before it is
	// pinged; no answer in as long again marks Redis gone (default 1 s).
	PingEvery time.Duration
	// QueueSize is how many ops may wait to be published (default 8192);
	// beyond it ops are dropped and the others told to resync.
	QueueSize int
	// ShareEvery is how often this node tells the others who has a page
	// open here, for presence (default 2 s).
	ShareEvery time.Duration
	// Delivered, if set, hears of each event another node sent with
	// PublishExcept (an announcement copy) that reached a stream here, by
	// its id, on the receiving goroutine: it must only hand it on.
	Delivered func(id int64)
}

// Bus is one node's connection to the others. Its methods are safe for
// concurrent use.
type Bus struct {
	opt     Options
	local   Local
	client  *redis.Client
	channel string
	origin  uint64 // this node's id in envelopes: random per process
	log     *slog.Logger

	mu     sync.Mutex
	queue  []body
	closed bool
	wake   chan struct{}

	health health
	gaps   gaps

	ctx      context.Context // ends the subscription
	cancel   context.CancelFunc
	stopSend chan struct{} // tells the sender to publish what is left, then stop
	done     sync.WaitGroup
}

// New connects lazily to the Redis at opt.URL; Start begins the work.
func New(opt Options) (*Bus, error) {
	ropt, channel, err := parseURL(opt.URL)
	if err != nil {
		return nil, err
	}
	if opt.Local == nil || opt.CatchUp == nil {
		return nil, errors.New("redisbus: Local and CatchUp are required")
	}
	if opt.PingEvery <= 0 {
		opt.PingEvery = time.Second
	}
	if opt.QueueSize <= 0 {
		opt.QueueSize = 8192
	}
	if opt.ShareEvery <= 0 {
		opt.ShareEvery = 2 * time.Second
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	// Fail fast: a publish or dial that hangs delays noticing an outage.
	ropt.DialTimeout, ropt.ReadTimeout, ropt.WriteTimeout = 2*time.Second, 2*time.Second, 2*time.Second
	ropt.MaxRetries = -1 // a failed publish is not retried: the others resync instead
	// RESP2: Pub/Sub needs nothing of RESP3, and it keeps go-redis's push
	// notification processing off the subscription's read path. (The
	// tests pass on RESP3 too; this is the older, simpler path.)
	ropt.Protocol = 2
	b := &Bus{opt: opt, local: opt.Local, client: redis.NewClient(ropt), channel: channel,
		origin: rand.Uint64(), log: opt.Logger, wake: make(chan struct{}, 1), stopSend: make(chan struct{})}
	b.health.init(b.log, ropt.Addr, channel)
	b.ctx, b.cancel = context.WithCancel(context.Background())
	return b, nil
}

// parseURL splits ?channel= off the URL (go-redis refuses options it does
// not know) and parses the rest.
func parseURL(raw string) (*redis.Options, string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, "", fmt.Errorf("redisbus: %w", err)
	}
	q := u.Query()
	channel := q.Get("channel")
	if channel == "" {
		channel = DefaultChannel
	}
	q.Del("channel")
	u.RawQuery = q.Encode()
	ropt, err := redis.ParseURL(u.String())
	if err != nil {
		return nil, "", fmt.Errorf("redisbus: %w", err)
	}
	return ropt, channel, nil
}

// Start subscribes and starts publishing. Call it once the hub knows the
// memberships: the first subscription runs CatchUp.
func (b *Bus) Start() {
	b.done.Go(b.receive)
	b.done.Go(b.send)
	b.done.Go(b.share)
}

// Close publishes what is still queued (until ctx ends), stops, and closes
// the connections. Call it after the last publish.
func (b *Bus) Close(ctx context.Context) error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	b.mu.Unlock()
	b.cancel()
	close(b.stopSend)
	stopped := make(chan struct{})
	go func() { b.done.Wait(); close(stopped) }()
	var err error
	select {
	case <-stopped:
	case <-ctx.Done():
		err = ctx.Err()
	}
	if cerr := b.client.Close(); err == nil {
		err = cerr
	}
	<-stopped // a publish in flight ends now that the client is closed
	return err
}

// Health is nil while this node reaches Redis both ways, and otherwise
// says what is wrong and since when.
func (b *Bus) Health() error { return b.health.err() }

// Dropped reports how many ops this node has dropped since it started
// because Redis could not take them fast enough (each made the other
// nodes catch up).
func (b *Bus) Dropped() int64 { return b.health.lost.Load() }
