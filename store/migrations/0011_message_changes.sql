-- Messages people can fix and react to.
--
-- A change to a message (edit, delete, reaction) takes a stream event id
-- from the same sequence as message ids (sqlite_sequence's row for
-- messages, which AUTOINCREMENT never reuses), and `changed` keeps the
-- newest. A stream resuming after X replays messages with id > X and
-- messages changed > X alike, in event order, so an edit to an old message
-- is not missed. 0: never changed.
ALTER TABLE messages ADD COLUMN changed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN edited_at INTEGER;
ALTER TABLE messages ADD COLUMN deleted_at INTEGER;
ALTER TABLE messages ADD COLUMN deleted_by INTEGER REFERENCES users (id);
ALTER TABLE messages ADD COLUMN reply_to INTEGER REFERENCES messages (id);

-- Replay reads changed messages by event id; most messages never change.
CREATE INDEX messages_changed ON messages (changed, room_id) WHERE changed > 0;

-- Each edit keeps the text it replaced, for room and site admins.
CREATE TABLE message_edits (
    id         INTEGER PRIMARY KEY,
    message_id INTEGER NOT NULL REFERENCES messages (id),
    editor_id  INTEGER NOT NULL REFERENCES users (id),
    old_body   TEXT    NOT NULL,
    edited_at  INTEGER NOT NULL
);

CREATE INDEX message_edits_by_message ON message_edits (message_id, id);

-- One row per person, message and emoji (from chat.Reactions).
CREATE TABLE reactions (
    message_id INTEGER NOT NULL REFERENCES messages (id),
    emoji      TEXT    NOT NULL,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (message_id, emoji, user_id)
) WITHOUT ROWID;
