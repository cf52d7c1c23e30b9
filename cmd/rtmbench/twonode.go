package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

// cluster is where workload 2n runs: a PostgreSQL server, on which it
// creates a database for the run and drops it after, and a Redis.
type cluster struct {
	postgres string // postgres:// URL of a database to connect to
	redis    string // redis:// URL
}

// twoNodesOrSkip runs workload 2n, or, when PostgreSQL or Redis does not
// answer, says so in one line and returns no rows; an error then only if
// the workload was asked for by name (required).
func twoNodesOrSkip(ctx context.Context, e *env, c cluster, required bool, w io.Writer, rate float64, d time.Duration) ([]result, error) {
	if err := c.check(ctx); err != nil {
		if required {
			return nil, fmt.Errorf("2n: %w", err)
		}
		fmt.Fprintf(w, "workload 2n (two nodes) skipped: %v\n", err)
		return nil, nil
	}
	return twoNodes(ctx, e, c, rate, d)
}

// twoNodes is workload 2n: the chat mix of mix (2,000 readers, no stalls)
// on a fresh PostgreSQL database, first on one node, then on two nodes
// sharing it and a Redis channel of the run's own. Each user is served
// by one node, so half of each room's readers are on the other node than
// any post's: their deliveries cross the bus. It returns the rows it
// finished.
func twoNodes(ctx context.Context, e *env, c cluster, rate float64, d time.Duration) ([]result, error) {
	db, drop, err := c.database(ctx)
	if err != nil {
		return nil, fmt.Errorf("2n: %w", err)
	}
	defer drop()
	pg, err := e.on(ctx, db, roomCount*roomSize)
	if err != nil {
		return nil, fmt.Errorf("2n: %w", err)
	}
	one, err := mix(ctx, pg, "2n 1 node, PostgreSQL", rate, d, 0)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", one.Name, err)
	}
	two := *pg
	two.nodes, two.flags = 2, []string{"-bus", c.bus()}
	both, err := mix(ctx, &two, "2n 2 nodes, PostgreSQL + bus", rate, d, 0)
	if err != nil {
		return []result{one}, fmt.Errorf("%s: %w", both.Name, err)
	}
	both.Config += ", readers and posts split over 2 nodes"
	both.Note = fmt.Sprintf("same node p50 %.2f, p99 %.2f ms; across nodes (%.0f%%) p50 %.2f, p99 %.2f ms",
		both.SameP50, both.SameP99, both.CrossPercent, both.CrossP50, both.CrossP99)
	return []result{one, both}, nil
}

// check reports why workload 2n cannot run here, or nil.
func (c cluster) check(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.postgres)
	if err != nil {
		return fmt.Errorf("no PostgreSQL (-postgres): %w", err) // pgx names the address, never the password
	}
	conn.Close(ctx)
	opt, err := redis.ParseURL(c.redis)
	if err != nil {
		return fmt.Errorf("-redis: %w", err)
	}
	opt.MaxRetries, opt.DialerRetries = -1, 1 // one try: the answer is yes or no
	redis.SetLogger(quiet{})                  // the line below says it once
	rc := redis.NewClient(opt)
	defer rc.Close()
	if err := rc.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("no Redis at %s (-redis): %w", opt.Addr, err)
	}
	return nil
}

// database creates an empty database and returns its URL, and drop,
// which removes it with FORCE: a server that did not stop in time may
// still hold connections.
func (c cluster) database(ctx context.Context) (db string, drop func(), err error) {
	u, err := url.Parse(c.postgres)
	if err != nil {
		return "", nil, fmt.Errorf("-postgres: %w", err)
	}
	name := "rtmbench_" + strings.ToLower(rand.Text()[:12])
	if err := c.exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", nil, err
	}
	u.Path = "/" + name
	return u.String(), func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := c.exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			fmt.Fprintln(os.Stderr, "rtmbench:", err)
		}
	}, nil
}

// exec runs one statement on its own connection (CREATE and DROP
// DATABASE cannot run in a transaction).
func (c cluster) exec(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, c.postgres)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("%s: %w", sql, err)
	}
	return nil
}

// bus is the -bus URL of one run: a channel of its own, so that runs and
// tests sharing the Redis never hear each other.
func (c cluster) bus() string {
	u, err := url.Parse(c.redis)
	if err != nil {
		return c.redis // check has already refused it
	}
	q := u.Query()
	q.Set("channel", "rtmbench:"+rand.Text()[:12])
	u.RawQuery = q.Encode()
	return u.String()
}

// quiet drops go-redis's own log lines.
type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}
