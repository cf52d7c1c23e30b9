package main

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/rtmessenger/rtmessenger/internal/nginxtest"
	"github.com/rtmessenger/rtmessenger/internal/pgtest"
	"github.com/rtmessenger/rtmessenger/internal/redistest"
)

// Three nodes on one database and one Redis, behind nginx running the
// project's deploy/nginx.conf: people whose streams are on different
// nodes chat live; one node dies (kill -9) and its readers resume through
// nginx on the others; Redis goes away and comes back while posts go on.
// At the end every acknowledged post is stored once, and what each reader
// saw of each of its rooms, de-duplicated, equals the database.
func TestMultiNodeChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node: runs three real servers, nginx and Redis")
	}
	// Three ways a reader once lost messages here, each now covered: (1)
	// a node streams its own commits at once and the others' a little
	// later, over Redis, so a stream that ends in between resumed past
	// one it never got; (2) while Redis is away each node's streams still
	// get its own posts, so after the catch-up they resumed past what the
	// other nodes stored meanwhile; (3) a node killed after a commit but
	// before its relay reached Redis never sent that message. Resumed
	// streams now replay from before such gaps (redisbus.Bus.ReplayFrom),
	// and a node whose heartbeat stops makes the others catch up.
	redis := redistest.NewProxy(t, redistest.Addr(t)) // cut and restored below, in Redis's place
	db := sharedDB(t)
	nodes := startNodes(t, 3, db, "redis://"+redis.Addr+"/0?channel="+url.QueryEscape(redistest.Channel(t)))
	c := newChaosCast(t, nginxtest.Start(t, nodes.addrs()...))
	c.follow(t, openDB(t, db))
	if on := c.nodesInUse(); len(on) < 2 {
		t.Fatalf("nginx put every stream on %v: nobody chats across nodes", on)
	}
	c.post(t)
	c.posts.pass(t, 30)

	victim := c.busiestNode()
	moved := c.readersOn(victim)
	nodes.kill(victim)
	waitUntil(t, fmt.Sprintf("readers %v to resume on another node", moved), func() bool {
		for _, i := range moved {
			if on := c.readers[i].on(); on == "" || on == victim {
				return false
			}
		}
		return true
	})
	c.posts.pass(t, 30)

	redis.Cut()
	for _, n := range nodes.live() {
		waitHealth(t, n.url, "degraded")
	}
	c.posts.pass(t, 30)
	redis.Restore()
	for _, n := range nodes.live() {
		waitHealth(t, n.url, "ok\n")
	}
	c.posts.pass(t, 30)

	stored := c.settle(t, openDB(t, db), false)
	if t.Failed() {
		return
	}
	t.Logf("3 nodes behind nginx, one killed, Redis cut and restored: %d posts acknowledged, %d stored, each once; readers %v moved off the killed node; each reader saw its rooms as stored",
		c.posts.count(), stored, moved)
}

// sharedDB is the database all nodes of a test share: a PostgreSQL
// database of the test's own, as several nodes need.
func sharedDB(t *testing.T) string {
	return pgtest.URL(t)
}

// cluster is a test's nodes: the server binary, one process per node, all
// on one database and one bus.
type cluster []*proc

// startNodes starts n nodes one after the other, so that the first alone
// prepares the database.
func startNodes(t *testing.T, n int, db, bus string) cluster {
	t.Helper()
	var nodes cluster
	for range n {
		nodes = append(nodes, startProc(t, freeAddr(t), db, "-bus", bus, "-post-rate", "0", "-trust-proxy"))
	}
	return nodes
}

// addrs are the nodes' host:port, as nginx names its upstreams.
func (c cluster) addrs() []string {
	var out []string
	for _, p := range c {
		out = append(out, strings.TrimPrefix(p.url, "http://"))
	}
	return out
}

// kill ends the node at addr with kill -9.
func (c cluster) kill(addr string) {
	c[slices.Index(c.addrs(), addr)].kill()
}

// live are the nodes not killed.
func (c cluster) live() []*proc {
	var out []*proc
	for _, p := range c {
		if p.cmd.ProcessState == nil {
			out = append(out, p)
		}
	}
	return out
}

// nodesInUse are the nodes serving the readers' open streams, by address.
func (c *chaosCast) nodesInUse() map[string]int {
	on := map[string]int{}
	for _, r := range c.readers {
		if n := r.on(); n != "" {
			on[n]++
		}
	}
	return on
}

// busiestNode is the node serving the most streams.
func (c *chaosCast) busiestNode() string {
	best, most := "", 0
	for n, k := range c.nodesInUse() {
		if k > most {
			best, most = n, k
		}
	}
	return best
}

// readersOn are the readers whose stream is on node.
func (c *chaosCast) readersOn(node string) []int {
	var out []int
	for i, r := range c.readers {
		if r.on() == node {
			out = append(out, i)
		}
	}
	return out
}
