-- Changes made with `rtmessenger admin` (the command line) have no account
-- behind them: their actor is NULL. SQLite cannot drop NOT NULL in place,
-- so both tables are rebuilt as they were, less that constraint.
CREATE TABLE profile_changes_new (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    changed_by INTEGER REFERENCES users (id),
    field      TEXT    NOT NULL,
    old_value  TEXT    NOT NULL,
    new_value  TEXT    NOT NULL,
    changed_at INTEGER NOT NULL
);
INSERT INTO profile_changes_new SELECT id, user_id, changed_by, field, old_value, new_value, changed_at FROM profile_changes;
DROP TABLE profile_changes;
ALTER TABLE profile_changes_new RENAME TO profile_changes;
CREATE INDEX profile_changes_by_user ON profile_changes (user_id, id);

CREATE TABLE sign_in_links_new (
    token_hash BLOB    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    created_by INTEGER REFERENCES users (id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
) WITHOUT ROWID;
INSERT INTO sign_in_links_new SELECT token_hash, user_id, created_by, created_at, expires_at, used_at FROM sign_in_links;
DROP TABLE sign_in_links;
ALTER TABLE sign_in_links_new RENAME TO sign_in_links;
CREATE INDEX sign_in_links_by_user ON sign_in_links (user_id);
