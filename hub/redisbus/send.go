package redisbus

import (
	"context"
	"time"
)

// enqueue hands an op to the sender. It never blocks: when the queue is
// full (Redis slow or away) the op is dropped and the others will resync.
func (b *Bus) enqueue(op body) {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return
	}
	if len(b.queue) >= b.opt.QueueSize {
		b.health.dropped.Add(1)
		b.health.lost.Add(1)
		b.mu.Unlock()
		return
	}
	b.queue = append(b.queue, op)
	b.mu.Unlock()
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

func (b *Bus) take() []body {
	b.mu.Lock()
	defer b.mu.Unlock()
	ops := b.queue
	b.queue = nil
	return ops
}

// send publishes queued ops in order, all that waited in one pipeline (one
// round trip), until Close. After any loss it first publishes a resync op
// and keeps retrying it while Redis is away.
func (b *Bus) send() {
	var seq uint64
	var buf []byte
	owe := false       // ops were lost: the others must resync
	var lost time.Time // when the first of them was lost
	retry := newBackoff()
	var warned time.Time
	for {
		ops := b.take()
		if n := b.health.dropped.Swap(0); n > 0 {
			if !owe {
				lost = time.Now()
			}
			owe = true
			if time.Since(warned) >= time.Minute { // a sustained overload must not flood the log
				warned = time.Now()
				b.log.Warn("bus queue full: dropped ops; the other nodes will catch up from the database", "dropped", n)
			}
		}
		if len(ops) == 0 && !owe {
			select {
			case <-b.wake:
				continue
			case <-b.stopSend:
				return
			}
		}
		if owe {
			// The span tells the others how far back their streams must
			// replay (gaps.go): ops lost then may be older than events
			// their streams got since.
			ops = append([]body{{op: opResync, a: lost.UnixMilli(), b: time.Now().UnixMilli()}}, ops...)
		}
		err := b.publish(ops, &seq, &buf)
		b.health.published(err)
		if err == nil {
			owe = false
			retry.reset()
			continue
		}
		if !owe {
			lost = time.Now()
		}
		owe = true
		select {
		case <-retry.wait():
		case <-b.stopSend:
			// Stopping while Redis is away: the others learn of the loss
			// only from their own reconnect (see the package comment).
			return
		}
	}
}

// publish sends ops in one pipeline. Sequence numbers are spent even when
// it fails: receivers that see a gap resync.
func (b *Bus) publish(ops []body, seq *uint64, buf *[]byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	pipe := b.client.Pipeline()
	for _, op := range ops {
		*seq++
		e := envelope{origin: b.origin, seq: *seq, body: op}
		*buf = e.appendTo((*buf)[:0])
		pipe.Publish(ctx, b.channel, string(*buf)) // a string copy: the pipeline holds it
	}
	_, err := pipe.Exec(ctx)
	return err
}

// backoff spaces out retries while Redis is away: quick at first, so a
// blip costs little, then once a second.
type backoff struct{ next time.Duration }

func newBackoff() *backoff { return &backoff{next: 50 * time.Millisecond} }

func (r *backoff) reset() { r.next = 50 * time.Millisecond }

func (r *backoff) wait() <-chan time.Time {
	d := r.next
	r.next = min(2*r.next, time.Second)
	return time.After(d)
}
