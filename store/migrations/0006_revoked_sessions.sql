-- A session that was ended (log-out, deactivation, a new token) is
-- remembered until it would have expired, so that a request still in
-- flight with it cannot store it again.
CREATE TABLE revoked_sessions (
	token  TEXT PRIMARY KEY,
	expiry INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX revoked_sessions_by_expiry ON revoked_sessions (expiry);
