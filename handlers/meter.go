package handlers

import (
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
)

// Meter hears what the handlers count, for the server's metrics
// (Deps.Meter). Its methods run on the request's path: they must be quick
// and never block. Label values are a small fixed set, never a user or room.
type Meter interface {
	// MessagePosted: a message was accepted; took runs from the start of
	// its checks to its commit (form, WebSocket and widget posts alike).
	MessagePosted(took time.Duration)
	// MessageRefused: a message was refused, for reason (refusalReason).
	MessageRefused(reason string)
	// CrossOriginRefused: a request from another site was refused (CSRF).
	CrossOriginRefused()
	// Replayed: a stream that resumed was sent the messages it missed.
	Replayed(messages int)
	// StreamReset: a resuming stream was told to reload instead of
	// replaying, for reason ("unknown_resume_point", "too_much_missed",
	// "deleted": resuming from before messages retention or a restore removed).
	StreamReset(reason string)
}

// noMeter counts nothing: the Meter when Deps has none.
type noMeter struct{}

func (noMeter) MessagePosted(time.Duration) {}
func (noMeter) MessageRefused(string)       {}
func (noMeter) CrossOriginRefused()         {}
func (noMeter) Replayed(int)                {}
func (noMeter) StreamReset(string)          {}

// refusalReason names why a message was refused, by its error's code.
func refusalReason(err error) string {
	switch chat.CodeOf(err) {
	case chat.Invalid:
		return "invalid" // empty, too long, not text, a bad client id
	case chat.TooLarge:
		return "too_large" // the request body itself
	case chat.RateLimited:
		return "rate_limited"
	case chat.Forbidden:
		return "not_member"
	case chat.NotFound:
		return "no_room"
	case chat.Conflict:
		return "conflict" // a resend with changed text (errSentBefore)
	case chat.Unauthorized:
		return "signed_out"
	}
	return "error"
}

// streamReset is why a resuming stream must reload: the data of its reset
// event, and the metrics' label for it.
type streamReset struct{ label, text string }

var (
	unknownResume = streamReset{"unknown_resume_point", "unknown resume point"}
	tooMuchMissed = streamReset{"too_much_missed", "too much missed to replay"}
	pastHorizon   = streamReset{"deleted", "older messages were deleted"}
)

// reset tells a resuming stream to reload, as id, and counts it.
func (h *Handler) reset(send func(int64, string, []byte) error, id int64, why streamReset) error {
	h.meter.StreamReset(why.label)
	return send(id, resetEvent, []byte(why.text))
}
