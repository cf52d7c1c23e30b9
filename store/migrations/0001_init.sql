-- Times are Unix milliseconds (UTC).

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT    NOT NULL COLLATE NOCASE UNIQUE,
    password_hash TEXT    NOT NULL,
    is_admin      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
);

CREATE TABLE rooms (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL COLLATE NOCASE UNIQUE,
    topic      TEXT    NOT NULL DEFAULT '',
    created_by INTEGER NOT NULL REFERENCES users (id),
    created_at INTEGER NOT NULL
);

CREATE TABLE memberships (
    user_id   INTEGER NOT NULL REFERENCES users (id),
    room_id   INTEGER NOT NULL REFERENCES rooms (id),
    joined_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, room_id)
) WITHOUT ROWID;

CREATE INDEX memberships_by_room ON memberships (room_id, user_id);

-- AUTOINCREMENT: a message id is never reused, even after deletes, because
-- clients resume streams from it.
CREATE TABLE messages (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    room_id    INTEGER NOT NULL REFERENCES rooms (id),
    author_id  INTEGER NOT NULL REFERENCES users (id),
    kind       INTEGER NOT NULL,
    body       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE INDEX messages_by_room ON messages (room_id, id);

CREATE TABLE sessions (
    token  TEXT PRIMARY KEY,
    data   BLOB    NOT NULL,
    expiry INTEGER NOT NULL
);

CREATE INDEX sessions_by_expiry ON sessions (expiry);
