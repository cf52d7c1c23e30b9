package main

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

type tableCount struct {
	name string
	rows int64
	took time.Duration
}

type copyResult struct {
	tables    []tableCount // rows copied, in copy order
	cleared   []tableCount // leftover rows deleted from the target first
	lastEvent int64        // the messages sequence: the next event id is above it
}

// copyDatabase copies every table from one read snapshot of src into dst
// in one transaction, so a failure anywhere leaves dst as it was.
func copyDatabase(ctx context.Context, src *sql.DB, dst *pgx.Conn) (copyResult, error) {
	var res copyResult
	stx, err := src.BeginTx(ctx, nil)
	if err != nil {
		return res, fmt.Errorf("read the SQLite file: %w", err)
	}
	defer stx.Rollback()
	tx, err := dst.Begin(ctx)
	if err != nil {
		return res, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))

	schema, err := readTargetSchema(ctx, tx)
	if err != nil {
		return res, err
	}
	plan, err := planOrder(schema)
	if err != nil {
		return res, err
	}
	if err := matchSource(ctx, stx, plan); err != nil {
		return res, err
	}
	if res.cleared, err = prepareTarget(ctx, tx, plan); err != nil {
		return res, err
	}
	if res.tables, err = copyTables(ctx, stx, tx, plan); err != nil {
		return res, err
	}
	if res.lastEvent, err = resetSequences(ctx, stx, tx, plan); err != nil {
		return res, err
	}
	if err := setTriggers(ctx, tx, plan, "ENABLE"); err != nil {
		return res, err
	}
	return res, tx.Commit(ctx)
}

// copyTables copies the tables in plan order, then sets the columns
// deferred to break foreign key cycles.
func copyTables(ctx context.Context, src *sql.Tx, dst pgx.Tx, plan []*tableCopy) ([]tableCount, error) {
	var counts []tableCount
	var later []keyUpdate
	for _, tc := range plan {
		start := time.Now()
		n, upd, err := copyTable(ctx, src, dst, tc)
		if err != nil {
			return nil, err
		}
		counts = append(counts, tableCount{tc.name, n, time.Since(start)})
		later = append(later, upd...)
	}
	return counts, applyUpdates(ctx, dst, later)
}

// prepareTarget locks the tables against a node started too early,
// refuses a target in use, and turns off the tables' own triggers: they
// derive rows the copy brings anyway (read_mark_on_join would give every
// member a read mark at their room's newest message).
func prepareTarget(ctx context.Context, tx pgx.Tx, plan []*tableCopy) ([]tableCount, error) {
	names := make([]string, len(plan))
	for i, tc := range plan {
		names[i] = pgx.Identifier{tc.name}.Sanitize()
	}
	if _, err := tx.Exec(ctx, "LOCK TABLE "+strings.Join(names, ", ")+" IN EXCLUSIVE MODE"); err != nil {
		return nil, err
	}
	var used bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users) OR EXISTS (SELECT 1 FROM messages)`).Scan(&used); err != nil {
		return nil, err
	}
	if used {
		return nil, fmt.Errorf("the PostgreSQL database already holds users or messages: migrate-db fills an empty database only")
	}
	// With no users, what is left can belong to nobody: sessions and
	// nonces of a server that ran against the empty database.
	var cleared []tableCount
	for _, tc := range slices.Backward(plan) {
		tag, err := tx.Exec(ctx, "DELETE FROM "+pgx.Identifier{tc.name}.Sanitize())
		if err != nil {
			return nil, err
		}
		if n := tag.RowsAffected(); n > 0 {
			cleared = append(cleared, tableCount{name: tc.name, rows: n})
		}
	}
	return cleared, setTriggers(ctx, tx, plan, "DISABLE")
}

// setTriggers turns the plan's tables' own triggers off or on; foreign
// key checks are not theirs and stay on.
func setTriggers(ctx context.Context, tx pgx.Tx, plan []*tableCopy, how string) error {
	for _, tc := range plan {
		if !tc.triggers {
			continue
		}
		if _, err := tx.Exec(ctx, "ALTER TABLE "+pgx.Identifier{tc.name}.Sanitize()+" "+how+" TRIGGER USER"); err != nil {
			return fmt.Errorf("%s triggers on %s: %w", strings.ToLower(how), tc.name, err)
		}
	}
	return nil
}

// keyUpdate sets deferred columns of one copied row.
type keyUpdate struct {
	sql  string
	args []any
}

// copyTable streams one table from SQLite into COPY, converting values
// to the PostgreSQL column types. Deferred columns go in as NULL; the
// updates that set them are returned.
func copyTable(ctx context.Context, src *sql.Tx, dst pgx.Tx, tc *tableCopy) (int64, []keyUpdate, error) {
	names := make([]string, len(tc.cols))
	conv := make([]func(any) (any, error), len(tc.cols))
	for i, c := range tc.cols {
		names[i] = c.name
		conv[i] = converter(c.typ)
	}
	rows, err := src.QueryContext(ctx, "SELECT "+sqliteList(names)+" FROM "+sqliteList([]string{tc.name}))
	if err != nil {
		return 0, nil, fmt.Errorf("read %s: %w", tc.name, err)
	}
	defer rows.Close()
	later := newDeferral(tc, names)
	raw := make([]any, len(names))
	ptrs := make([]any, len(names))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	n, err := dst.CopyFrom(ctx, pgx.Identifier{tc.name}, names, pgx.CopyFromFunc(func() ([]any, error) {
		if !rows.Next() {
			return nil, rows.Err()
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := make([]any, len(raw))
		for i, v := range raw {
			var err error
			if row[i], err = conv[i](v); err != nil {
				return nil, fmt.Errorf("column %s: %w", names[i], err)
			}
		}
		later.take(row)
		return row, nil
	}))
	if err != nil {
		return 0, nil, fmt.Errorf("copy %s: %w", tc.name, err)
	}
	return n, later.updates, nil
}

// deferral takes deferred columns' values out of the rows being copied
// and keeps them as updates by primary key.
type deferral struct {
	sql      string
	set, key []int // column indexes
	updates  []keyUpdate
}

func newDeferral(tc *tableCopy, names []string) *deferral {
	d := &deferral{}
	if len(tc.deferred) == 0 {
		return d
	}
	var sets, where []string
	for _, c := range tc.deferred {
		d.set = append(d.set, slices.Index(names, c))
		sets = append(sets, fmt.Sprintf("%s = $%d", pgx.Identifier{c}.Sanitize(), len(sets)+1))
	}
	for _, c := range tc.pk {
		d.key = append(d.key, slices.Index(names, c))
		where = append(where, fmt.Sprintf("%s = $%d", pgx.Identifier{c}.Sanitize(), len(sets)+len(where)+1))
	}
	d.sql = "UPDATE " + pgx.Identifier{tc.name}.Sanitize() + " SET " + strings.Join(sets, ", ") + " WHERE " + strings.Join(where, " AND ")
	return d
}

func (d *deferral) take(row []any) {
	var args []any
	for _, i := range d.set {
		if row[i] != nil {
			args = make([]any, 0, len(d.set)+len(d.key))
			break
		}
	}
	if args == nil {
		return // nothing to set later
	}
	for _, i := range d.set {
		args = append(args, row[i])
		row[i] = nil
	}
	for _, i := range d.key {
		args = append(args, row[i])
	}
	d.updates = append(d.updates, keyUpdate{d.sql, args})
}

// applyUpdates sets the deferred columns, a batch of statements per round
// trip.
func applyUpdates(ctx context.Context, tx pgx.Tx, updates []keyUpdate) error {
	for chunk := range slices.Chunk(updates, 1000) {
		b := &pgx.Batch{}
		for _, u := range chunk {
			b.Queue(u.sql, u.args...)
		}
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("set deferred references: %w", err)
		}
	}
	return nil
}

// resetSequences moves every identity sequence past the ids copied in.
// The messages sequence also hands out change ids (edits, deletions,
// reactions: store/changes.go), and SQLite's counter never goes back
// even where the newest rows are gone: it continues from the largest of
// them, or a client resuming its stream "after N" would skip events.
func resetSequences(ctx context.Context, src *sql.Tx, dst pgx.Tx, plan []*tableCopy) (lastEvent int64, err error) {
	counters, err := sqliteCounters(ctx, src)
	if err != nil {
		return 0, err
	}
	for _, tc := range plan {
		if tc.identity == "" {
			continue
		}
		q := fmt.Sprintf("SELECT COALESCE(MAX(%s), 0) FROM %s", pgx.Identifier{tc.identity}.Sanitize(), pgx.Identifier{tc.name}.Sanitize())
		if tc.name == "messages" {
			q = `SELECT GREATEST(COALESCE(MAX(id), 0), COALESCE(MAX(changed), 0)) FROM messages`
		}
		var top int64
		if err := dst.QueryRow(ctx, q).Scan(&top); err != nil {
			return 0, fmt.Errorf("newest id of %s: %w", tc.name, err)
		}
		top = max(top, counters[tc.name])
		if tc.name == "messages" {
			lastEvent = top
		}
		if top == 0 {
			continue // untouched: the sequence starts at 1
		}
		if _, err := dst.Exec(ctx, `SELECT setval(pg_get_serial_sequence($1, $2), $3)`,
			pgx.Identifier{tc.name}.Sanitize(), tc.identity, top); err != nil {
			return 0, fmt.Errorf("sequence of %s: %w", tc.name, err)
		}
	}
	return lastEvent, nil
}

// sqliteCounters reads sqlite_sequence: the largest id each AUTOINCREMENT
// table ever handed out (for messages, the newest stream event id).
func sqliteCounters(ctx context.Context, src *sql.Tx) (map[string]int64, error) {
	counters := map[string]int64{}
	var exists bool
	if err := src.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE name = 'sqlite_sequence')`).Scan(&exists); err != nil || !exists {
		return counters, err
	}
	rows, err := src.QueryContext(ctx, `SELECT name, seq FROM sqlite_sequence`)
	if err != nil {
		return nil, fmt.Errorf("read sqlite_sequence: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var seq int64
		if err := rows.Scan(&name, &seq); err != nil {
			return nil, err
		}
		counters[name] = seq
	}
	return counters, rows.Err()
}

// sqliteList quotes SQLite identifiers and joins them with commas.
func sqliteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = `"` + strings.ReplaceAll(n, `"`, `""`) + `"`
	}
	return strings.Join(q, ", ")
}

// converter turns a value as SQLite stores it into one of the PostgreSQL
// column's type: SQLite keeps booleans as 0 and 1, and may hand back text
// as bytes or bytes as text.
func converter(typ string) func(any) (any, error) {
	switch typ {
	case "boolean":
		return func(v any) (any, error) {
			switch x := v.(type) {
			case nil, bool:
				return x, nil
			case int64:
				return x != 0, nil
			}
			return nil, fmt.Errorf("want 0 or 1 for a boolean, found %T %v", v, v)
		}
	case "bytea":
		return func(v any) (any, error) {
			if s, ok := v.(string); ok {
				return []byte(s), nil
			}
			return v, nil
		}
	case "text", "citext", "character varying":
		return func(v any) (any, error) {
			if b, ok := v.([]byte); ok {
				return string(b), nil
			}
			return v, nil
		}
	}
	return func(v any) (any, error) { return v, nil }
}
