-- One row the health check updates in place: a real write that commits
-- through the writer, yet never grows the database.
CREATE TABLE IF NOT EXISTS health (
	id         INTEGER PRIMARY KEY CHECK (id = 1),
	checked_at INTEGER NOT NULL
);
