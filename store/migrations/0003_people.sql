-- Conversations (direct and group) are rooms of a private kind. Room names
-- stay unique among public rooms only, which takes a rebuild: SQLite cannot
-- drop a column's UNIQUE constraint in place. (migrate runs this with
-- foreign keys off and checks them before committing.)
CREATE TABLE rooms_new (
    id         INTEGER PRIMARY KEY,
    kind       INTEGER NOT NULL DEFAULT 0,
    name       TEXT    NOT NULL COLLATE NOCASE,
    topic      TEXT    NOT NULL DEFAULT '',
    created_by INTEGER NOT NULL REFERENCES users (id),
    created_at INTEGER NOT NULL,
    -- A conversation's sorted member ids ("3:8:21"): starting one with the
    -- same people finds it again.
    member_key TEXT
);

INSERT INTO rooms_new (id, kind, name, topic, created_by, created_at)
SELECT id, 0, name, topic, created_by, created_at FROM rooms;

DROP TABLE rooms;

ALTER TABLE rooms_new RENAME TO rooms;

CREATE UNIQUE INDEX rooms_by_name ON rooms (name) WHERE kind = 0;

CREATE UNIQUE INDEX rooms_by_member_key ON rooms (member_key) WHERE member_key IS NOT NULL;

-- Directory details. An imported person has no password until they follow
-- their sign-in link: password_hash '' matches nothing.
ALTER TABLE users ADD COLUMN display_name   TEXT    NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN title          TEXT    NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN department     TEXT    NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN email          TEXT    NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN phone          TEXT    NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN timezone       TEXT    NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN bio            TEXT    NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN last_seen_at   INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN deactivated_at INTEGER;

-- The audit trail: every change to anyone's details, never updated or deleted.
CREATE TABLE profile_changes (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    changed_by INTEGER NOT NULL REFERENCES users (id),
    field      TEXT    NOT NULL,
    old_value  TEXT    NOT NULL,
    new_value  TEXT    NOT NULL,
    changed_at INTEGER NOT NULL
);

CREATE INDEX profile_changes_by_user ON profile_changes (user_id, id);

-- One-time links that let a person set their password. Only a hash of the
-- token is kept, so a copy of the database cannot sign anyone in.
CREATE TABLE sign_in_links (
    token_hash BLOB    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    created_by INTEGER NOT NULL REFERENCES users (id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
) WITHOUT ROWID;

CREATE INDEX sign_in_links_by_user ON sign_in_links (user_id);

CREATE TABLE announcements (
    id         INTEGER PRIMARY KEY,
    sender_id  INTEGER NOT NULL REFERENCES users (id),
    body       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE INDEX announcements_by_sender ON announcements (sender_id, id);

-- One row per recipient: their copy (a message in their direct
-- conversation with the sender) and how far it got.
CREATE TABLE announcement_recipients (
    announcement_id INTEGER NOT NULL REFERENCES announcements (id),
    user_id         INTEGER NOT NULL REFERENCES users (id),
    room_id         INTEGER NOT NULL REFERENCES rooms (id),
    message_id      INTEGER NOT NULL REFERENCES messages (id),
    delivered_at    INTEGER,
    read_at         INTEGER,
    PRIMARY KEY (announcement_id, user_id)
) WITHOUT ROWID;

CREATE UNIQUE INDEX announcement_recipients_by_message ON announcement_recipients (message_id);

CREATE INDEX announcement_recipients_unread ON announcement_recipients (user_id, room_id) WHERE read_at IS NULL;

CREATE INDEX announcement_recipients_undelivered ON announcement_recipients (user_id) WHERE delivered_at IS NULL;
