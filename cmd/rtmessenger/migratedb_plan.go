package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
)

// migrate-db takes the tables and columns to copy from the PostgreSQL
// schema, so a column added later is copied without a change here, and a
// column only one side has stops the copy instead of being dropped.

// skipTable reports whether a table is no data of the chat's: each
// engine's migration records, SQLite's own bookkeeping, full-text index
// and how far that index has caught up (PostgreSQL's is a generated
// column), and the health check's scratch row.
func skipTable(name string) bool {
	return name == "schema_migrations" || name == "health" || name == "search_progress" ||
		strings.HasPrefix(name, "sqlite_") || strings.HasPrefix(name, "messages_fts")
}

type pgColumn struct {
	name string
	typ  string // data_type, or the type's own name for extension types (citext)
	// nullable, or filled by a default or an identity when left out.
	nullable, optional bool
}

type foreignKey struct {
	cols []string
	ref  string
}

type pgTable struct {
	name     string
	cols     []pgColumn // in table order; generated columns left out
	pk       []string
	fks      []foreignKey
	identity string // the identity column, if any
	triggers bool   // has triggers of its own (not foreign-key checks)
}

func (t *pgTable) column(name string) (pgColumn, bool) {
	i := slices.IndexFunc(t.cols, func(c pgColumn) bool { return c.name == name })
	if i < 0 {
		return pgColumn{}, false
	}
	return t.cols[i], true
}

// readTargetSchema reads the target's tables: columns, keys, triggers.
func readTargetSchema(ctx context.Context, tx pgx.Tx) (map[string]*pgTable, error) {
	tables := map[string]*pgTable{}
	if err := readColumns(ctx, tx, tables); err != nil {
		return nil, fmt.Errorf("read the schema's columns: %w", err)
	}
	if err := readKeys(ctx, tx, tables); err != nil {
		return nil, fmt.Errorf("read the schema's keys: %w", err)
	}
	rows, err := tx.Query(ctx, `
		SELECT DISTINCT c.relname::text FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid
		WHERE NOT g.tgisinternal AND c.relnamespace = current_schema()::regnamespace`)
	if err != nil {
		return nil, fmt.Errorf("read the schema's triggers: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("read the schema's triggers: %w", err)
	}
	for _, n := range names {
		if t := tables[n]; t != nil {
			t.triggers = true
		}
	}
	return tables, nil
}

func readColumns(ctx context.Context, tx pgx.Tx, tables map[string]*pgTable) error {
	rows, err := tx.Query(ctx, `
		SELECT c.table_name::text, c.column_name::text,
		       CASE WHEN c.data_type = 'USER-DEFINED' THEN c.udt_name ELSE c.data_type END::text,
		       c.is_nullable = 'YES', c.column_default IS NOT NULL,
		       c.is_identity = 'YES', c.is_generated = 'ALWAYS'
		FROM information_schema.columns c
		JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
		WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
		ORDER BY c.table_name, c.ordinal_position`)
	if err != nil {
		return err
	}
	var table string
	var col pgColumn
	var hasDefault, identity, generated bool
	_, err = pgx.ForEachRow(rows, []any{&table, &col.name, &col.typ, &col.nullable, &hasDefault, &identity, &generated}, func() error {
		if skipTable(table) {
			return nil
		}
		t := tables[table]
		if t == nil {
			t = &pgTable{name: table}
			tables[table] = t
		}
		if identity {
			t.identity = col.name
		}
		if !generated { // computed by PostgreSQL itself (messages.search)
			col.optional = col.nullable || hasDefault || identity
			t.cols = append(t.cols, col)
		}
		return nil
	})
	return err
}

func readKeys(ctx context.Context, tx pgx.Tx, tables map[string]*pgTable) error {
	rows, err := tx.Query(ctx, `
		SELECT t.relname::text, c.contype::text, COALESCE(r.relname::text, ''),
		       ARRAY(SELECT a.attname::text
		             FROM unnest(c.conkey) WITH ORDINALITY k(num, ord)
		             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.num
		             ORDER BY k.ord)
		FROM pg_constraint c
		JOIN pg_class t ON t.oid = c.conrelid
		LEFT JOIN pg_class r ON r.oid = c.confrelid
		WHERE c.connamespace = current_schema()::regnamespace AND c.contype IN ('p', 'f')
		ORDER BY t.relname, c.conname`)
	if err != nil {
		return err
	}
	var table, kind, ref string
	var cols []string
	_, err = pgx.ForEachRow(rows, []any{&table, &kind, &ref, &cols}, func() error {
		t := tables[table]
		if t == nil {
			return nil
		}
		if kind == "p" {
			t.pk = slices.Clone(cols)
		} else {
			t.fks = append(t.fks, foreignKey{cols: slices.Clone(cols), ref: ref})
		}
		return nil
	})
	return err
}

// tableCopy is one table to copy: the columns both sides have, and those
// of them copied as NULL first and set once every table is in.
type tableCopy struct {
	*pgTable
	cols     []pgColumn
	deferred []string
}

// planOrder puts the tables in foreign-key order: each after the tables
// it refers to, so every row's references are already there. A cycle
// (users.site_id → embed_sites.created_by → users) is broken at a
// foreign key whose columns may be NULL: they are set after the copy.
// A table referring to itself (messages.reply_to) is no cycle: COPY
// checks its references at the end of the statement.
func planOrder(tables map[string]*pgTable) ([]*tableCopy, error) {
	names := make([]string, 0, len(tables))
	for n := range tables {
		names = append(names, n)
	}
	slices.Sort(names)
	placed := map[string]bool{}
	deferred := map[*foreignKey]bool{}
	// waiting lists the unplaced tables t still refers to.
	waiting := func(t *pgTable) []string {
		var refs []string
		for i := range t.fks {
			fk := &t.fks[i]
			if !deferred[fk] && fk.ref != t.name && tables[fk.ref] != nil && !placed[fk.ref] {
				refs = append(refs, fk.ref)
			}
		}
		return refs
	}
	var order []*tableCopy
	for len(order) < len(names) {
		progress := false
		for _, n := range names {
			if t := tables[n]; !placed[n] && len(waiting(t)) == 0 {
				placed[n] = true
				order = append(order, &tableCopy{pgTable: t})
				progress = true
			}
		}
		if !progress {
			if err := breakCycle(tables, names, placed, waiting, deferred); err != nil {
				return nil, err
			}
		}
	}
	for _, tc := range order {
		for i := range tc.fks {
			if deferred[&tc.fks[i]] {
				tc.deferred = append(tc.deferred, tc.fks[i].cols...)
			}
		}
	}
	return order, nil
}

// breakCycle finds a cycle among the unplaced tables (each refers to an
// unplaced one, or it would have been placed) and defers one of its
// nullable foreign keys.
func breakCycle(tables map[string]*pgTable, names []string, placed map[string]bool,
	waiting func(*pgTable) []string, deferred map[*foreignKey]bool) error {
	var path []string
	cur := names[slices.IndexFunc(names, func(n string) bool { return !placed[n] })]
	for !slices.Contains(path, cur) {
		path = append(path, cur)
		cur = waiting(tables[cur])[0]
	}
	cycle := append(slices.Clone(path[slices.Index(path, cur):]), cur)
	for i := 0; i+1 < len(cycle); i++ {
		t := tables[cycle[i]]
		for j := range t.fks {
			fk := &t.fks[j]
			if fk.ref == cycle[i+1] && !deferred[fk] && allNullable(t, fk.cols) && len(t.pk) > 0 {
				deferred[fk] = true
				return nil
			}
		}
	}
	return fmt.Errorf("foreign keys form a cycle with no column that may be NULL: %s", strings.Join(cycle, " → "))
}

func allNullable(t *pgTable, cols []string) bool {
	for _, c := range cols {
		if col, ok := t.column(c); !ok || !col.nullable || slices.Contains(t.pk, c) {
			return false
		}
	}
	return true
}

// matchSource checks the SQLite file against the plan and picks each
// table's columns: every column on either side must be on the other,
// except a PostgreSQL column that fills itself (a default, NULL).
func matchSource(ctx context.Context, src *sql.Tx, plan []*tableCopy) error {
	have, err := sqliteTables(ctx, src)
	if err != nil {
		return err
	}
	var problems []error
	for _, tc := range plan {
		if !have[tc.name] {
			problems = append(problems, fmt.Errorf("table %s is missing from the SQLite file", tc.name))
			continue
		}
		delete(have, tc.name)
		cols, err := sqliteColumns(ctx, src, tc.name)
		if err != nil {
			return err
		}
		for _, c := range tc.pgTable.cols {
			switch {
			case slices.Contains(cols, c.name):
				tc.cols = append(tc.cols, c)
			case !c.optional:
				problems = append(problems, fmt.Errorf("column %s.%s is missing from the SQLite file and has no default", tc.name, c.name))
			}
		}
		for _, c := range cols {
			if _, ok := tc.column(c); !ok {
				problems = append(problems, fmt.Errorf("column %s.%s is missing from PostgreSQL", tc.name, c))
			}
		}
	}
	for name := range have {
		problems = append(problems, fmt.Errorf("table %s is missing from PostgreSQL", name))
	}
	return errors.Join(problems...)
}

// sqliteTables lists the file's tables that hold chat data.
func sqliteTables(ctx context.Context, src *sql.Tx) (map[string]bool, error) {
	rows, err := src.QueryContext(ctx, `SELECT name FROM sqlite_schema WHERE type = 'table'`)
	if err != nil {
		return nil, fmt.Errorf("list the SQLite tables: %w", err)
	}
	defer rows.Close()
	have := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		if !skipTable(n) {
			have[n] = true
		}
	}
	return have, rows.Err()
}

func sqliteColumns(ctx context.Context, src *sql.Tx, table string) ([]string, error) {
	rows, err := src.QueryContext(ctx, `SELECT name FROM pragma_table_info(?)`, table)
	if err != nil {
		return nil, fmt.Errorf("read the SQLite columns of %s: %w", table, err)
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		cols = append(cols, c)
	}
	return cols, rows.Err()
}
