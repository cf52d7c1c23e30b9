package handlers

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
	"github.com/rtmessenger/rtmessenger/views"
)

// ReplayStore is what a stream's replay reads, and the deliveries it
// records.
type ReplayStore interface {
	Missed(ctx context.Context, user, after int64, limit int) ([]chat.Message, error)
	MarkDelivered(ctx context.Context, messages []int64) error
	ReplayFloor(ctx context.Context, after int64, from func(made time.Time) time.Time) (int64, error)
	// ReplayBounds is the newest event id, and the newest message id
	// deleted by retention (or lost to a restore): replay from before that
	// would leave a gap.
	ReplayBounds(ctx context.Context) (latest, horizon int64, err error)
}

// resetEvent tells a page it missed too much to replay: reload instead.
const resetEvent = "rtm-reset"

// events serves the user's one stream. A reconnecting browser sends
// Last-Event-ID; a freshly loaded page passes ?after= with the newest id it
// was rendered with. Either way everything newer is replayed first.
func (h *Handler) events(w http.ResponseWriter, r *http.Request, u chat.User) {
	if ok, wait := h.limits.Streams.Allow(strconv.FormatInt(u.ID, 10)); !ok {
		err := tooMany(w, wait, "Too many stream connections.")
		http.Error(w, chat.ErrorText(err), statusOf(err))
		return
	}
	after, known := resumePoint(r)
	token := h.sessions.Token(r.Context())
	h.streams.Serve(w, r, u.ID, token, h.sessionAlive(token, u.ID), h.replayFor(u, after, known, r))
}

// replayFor sends u what was missed after the resume point, or tells the
// page to reload when that is impossible. A status page's stream then gets
// the announcement's current status.
func (h *Handler) replayFor(u chat.User, after int64, known bool, r *http.Request) func(context.Context, func(int64, string, []byte) error) error {
	watch, from := watched(r)
	return func(ctx context.Context, send func(int64, string, []byte) error) error {
		if !known {
			return h.reset(send, after, unknownResume)
		}
		if after < 0 {
			return nil
		}
		why, at, err := h.unreplayable(ctx, after)
		switch {
		case err != nil:
			return err
		case why != nil:
			return h.reset(send, at, *why)
		}
		own := after // what the client says it has
		msgs, after, err := h.missedAfter(ctx, own, func(after int64) ([]chat.Message, error) {
			return h.replays.Missed(ctx, u.ID, after, h.replayLimit+1)
		})
		if err != nil {
			return err
		}
		if len(msgs) > h.replayLimit {
			return h.reset(send, after, tooMuchMissed)
		}
		msgs, removed, err := h.withRemovals(ctx, u, after, msgs)
		if err != nil {
			return err
		}
		var delivered []int64
		for _, m := range msgs {
			name, data, err := h.replayEvent(ctx, m, removed[m.ID])
			if err != nil {
				return err
			}
			if err := send(m.EventID(), name, data); err != nil {
				return err
			}
			if m.Kind == chat.KindAnnouncement && m.Changed == 0 {
				delivered = append(delivered, m.ID)
			}
			after = m.EventID()
		}
		h.meter.Replayed(len(msgs))
		if err := h.replays.MarkDelivered(ctx, delivered); err != nil {
			return err
		}
		if watch > 0 {
			// Never below the client's own point: its resume point must
			// not move back because the floor re-sent older events.
			return h.sendStatus(ctx, u, watch, from, max(after, own), send)
		}
		return nil
	}
}

// missedAfter reads, with read, what a stream resuming after own missed
// (at most one more than the replay limit), and returns it with the id it
// follows. With several nodes it reads from the replay floor before own:
// events the stream may have been sent out of order are sent again, and a
// page upserts them by id. Where the floor holds more than a replay does,
// the reset that follows reloads the page, unless the floor of the
// newest message holds as much (while the bus is down it reaches back to
// when the outage began): the reloaded page would meet it again, so the
// client's own point is taken instead.
func (h *Handler) missedAfter(ctx context.Context, own int64, read func(after int64) ([]chat.Message, error)) ([]chat.Message, int64, error) {
	if h.replayFrom == nil {
		msgs, err := read(own)
		return msgs, own, err
	}
	after, err := h.replays.ReplayFloor(ctx, own, h.replayFrom)
	if err != nil {
		return nil, own, err
	}
	msgs, err := read(after)
	if err != nil || len(msgs) <= h.replayLimit || after >= own {
		return msgs, after, err
	}
	latest, _, err := h.replays.ReplayBounds(ctx)
	if err != nil {
		return nil, own, err
	}
	fresh, err := h.replays.ReplayFloor(ctx, latest, h.replayFrom)
	if err != nil {
		return nil, own, err
	}
	if again, err := read(fresh); err != nil || len(again) <= h.replayLimit {
		return msgs, after, err // a reload gets a page that can resume
	}
	msgs, err = read(own)
	return msgs, own, err
}

// unreplayable says why a stream resuming after the event id after cannot
// be replayed, and the id its reset event carries; why is nil when it can.
func (h *Handler) unreplayable(ctx context.Context, after int64) (why *streamReset, at int64, err error) {
	latest, horizon, err := h.replays.ReplayBounds(ctx)
	if err != nil {
		return nil, 0, err
	}
	if after > latest { // an id from another database, or a restored backup
		return &unknownResume, latest, nil
	}
	if after < horizon { // messages after it were deleted (retention, a restore)
		return &pastHorizon, after, nil
	}
	return nil, 0, nil
}

// resumePoint returns the id to replay after: -1 for "nothing to replay";
// known is false for a value that is not an id this server could have sent.
func resumePoint(r *http.Request) (after int64, known bool) {
	v := r.Header.Get("Last-Event-ID")
	if v == "" {
		v = r.URL.Query().Get("after")
	}
	if v == "" {
		return -1, true
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// renderEvent renders the stream fragment of one message.
func renderEvent(ctx context.Context, m chat.Message) ([]byte, error) {
	var buf bytes.Buffer
	event := views.MessageEvent(m)
	if m.OnlyReactions {
		event = views.ReactionsEvent(m)
	}
	if err := event.Render(ctx, &buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
