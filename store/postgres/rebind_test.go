package postgres

import "testing"

func TestRebind(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`SELECT a FROM t WHERE b = ? AND c = ?`, `SELECT a FROM t WHERE b = $1 AND c = $2`},
		{`WHERE m.id > ?1 AND x = ?2 OR y = ?1 LIMIT ?3`, `WHERE m.id > $1 AND x = $2 OR y = $1 LIMIT $3`},
		{`SELECT '?', 'it''s ?' WHERE a = ?`, `SELECT '?', 'it''s ?' WHERE a = $1`},
		{`ORDER BY u.username COLLATE NOCASE LIMIT ?`, `ORDER BY u.username::citext LIMIT $1`},
		{`ORDER BY CASE d WHEN '' THEN u ELSE d END COLLATE NOCASE, id`, `ORDER BY CASE d WHEN '' THEN u ELSE d END::citext, id`},
		{`group_concat(r.emoji || char(31), char(30) ORDER BY r.id)`, `string_agg(r.emoji || chr(31), chr(30) ORDER BY r.id)`},
		{`WHERE name LIKE ? ESCAPE '\'`, `WHERE name ILIKE $1 ESCAPE '\'`},
		{`CREATE TEMP TABLE x (user_id INTEGER PRIMARY KEY, chars TEXT)`, `CREATE TEMP TABLE x (user_id BIGINT PRIMARY KEY, chars TEXT)`},
		{`SELECT charlie, char FROM t`, `SELECT charlie, char FROM t`},
	} {
		if got := rebind(tc.in); got != tc.want {
			t.Errorf("rebind(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
}
