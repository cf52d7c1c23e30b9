package store

import (
	"context"
	"database/sql"
	"errors"
)

// Engine is a database server the store can run on instead of its
// embedded SQLite (store/postgres is one). The store's statements are
// written in SQLite's dialect; an engine translates them (Rebind), keeps
// its own schema, and hands over pools whose schema is up to date.
//
// Its methods use only standard types, so an engine's package need not
// import this one (and this package's tests can run on it).
type Engine interface {
	// Pools returns the writer pool, which must hold exactly one
	// connection (the store groups writes into its transactions), and the
	// read pool.
	Pools() (writer, readers *sql.DB)
	// Rebind rewrites one of the store's statements for this engine.
	Rebind(query string) string
	// BeginBatch runs first in every write transaction. It may wait for
	// other nodes' batches: the event ids a batch hands out must become
	// visible in the order they were handed out, or a stream resuming
	// "after N" could pass over one that commits later.
	BeginBatch(ctx context.Context, tx *sql.Tx) error
	// NextEvent is a statement that takes the next stream event id from
	// the sequence message ids come from (see nextEvent).
	NextEvent() string
	// LatestEvent is a statement reading the newest committed event id.
	LatestEvent() string
	// Close closes both pools.
	Close() error
}

// commitResolver is an engine that can tell, after a COMMIT failed,
// whether the batch committed after all: a server may commit and lose the
// connection before its answer arrives. Taken for a failure, such a batch
// would be stored and never published, and a resent post would find
// itself stored and be answered without ever reaching a stream.
type commitResolver interface {
	// BatchCommitted reports whether the last batch begun
	// (Engine.BeginBatch) committed, asking on another connection.
	BatchCommitted(ctx context.Context) (bool, error)
}

// textSearcher is an engine with full-text search of its own (SQLite's
// is FTS5, search.go). Each method returns a statement and its arguments.
type textSearcher interface {
	// SearchCandidates selects the ids of messages in user's rooms (only
	// room, when not 0; only by author, when not 0; only older than
	// before, when not 0) holding every word, at most limit of them, best
	// match first.
	SearchCandidates(user int64, words []string, room, author, before int64, limit int) (string, []any)
	// SearchHits selects columns and one more text column (ignored: the
	// store makes the snippets) from source, whose messages are aliased
	// m, for the messages ids that user may still read.
	SearchHits(columns, source string, user int64, ids []int64) (string, []any)
}

// sqlState is how database drivers other than SQLite's report an error's
// SQLSTATE code (pgx's *pgconn.PgError does).
type sqlState interface{ SQLState() string }

func errorState(err error) string {
	var st sqlState
	if errors.As(err, &st) {
		return st.SQLState()
	}
	return ""
}

// SQLSTATE classes that say the server cannot write at all, as opposed to
// refusing one statement: insufficient resources (a full disk), operator
// intervention (shutting down), system error, internal error; and a
// read-only transaction (a standby took the connection).
func serverCannotWrite(state string) bool {
	if state == "25006" {
		return true
	}
	if len(state) < 2 {
		return false
	}
	switch state[:2] {
	case "53", "57", "58", "XX":
		return true
	}
	return false
}
