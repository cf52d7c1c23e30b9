-- How far each person has read each room: the newest message id they have
-- seen there. It only ever moves forward (MAX), so tabs marking at once
-- cannot move it back. Rows outlive memberships: a returning member's mark
-- moves up to the room's newest message as they rejoin (the trigger below).
CREATE TABLE read_marks (
    user_id   INTEGER NOT NULL REFERENCES users (id),
    room_id   INTEGER NOT NULL REFERENCES rooms (id),
    last_read INTEGER NOT NULL,
    PRIMARY KEY (user_id, room_id)
) WITHOUT ROWID;

-- Members start with what is there read, except announcement copies they
-- have not read yet: those stay unread, as before.
INSERT INTO read_marks (user_id, room_id, last_read)
SELECT m.user_id, m.room_id,
       COALESCE((SELECT MIN(a.message_id) - 1 FROM announcement_recipients a
                 WHERE a.user_id = m.user_id AND a.room_id = m.room_id AND a.read_at IS NULL),
                (SELECT MAX(id) FROM messages WHERE room_id = m.room_id), 0)
FROM memberships m;

-- Whoever joins a room, however (a join, a conversation, an invitation),
-- has read what was there before them.
CREATE TRIGGER read_mark_on_join AFTER INSERT ON memberships
BEGIN
    INSERT INTO read_marks (user_id, room_id, last_read)
    VALUES (NEW.user_id, NEW.room_id, (SELECT COALESCE(MAX(id), 0) FROM messages WHERE room_id = NEW.room_id))
    ON CONFLICT (user_id, room_id) DO UPDATE SET last_read = MAX(last_read, excluded.last_read);
END;

-- Who a message mentions, for rendering it: "room" for @room, then
-- "id:username" per person, space-separated; NULL when nobody.
ALTER TABLE messages ADD COLUMN mentions TEXT;

-- The same, one row per mentioned member (@room: one per member but the
-- author), for counting and listing a person's mentions.
CREATE TABLE mentions (
    user_id    INTEGER NOT NULL REFERENCES users (id),
    room_id    INTEGER NOT NULL REFERENCES rooms (id),
    message_id INTEGER NOT NULL REFERENCES messages (id),
    PRIMARY KEY (user_id, room_id, message_id)
) WITHOUT ROWID;

CREATE INDEX mentions_by_user ON mentions (user_id, message_id);

-- Unread counts walk a room's messages after a mark, reading each one's
-- author and kind: with both in the room index, from the index alone. Same
-- name and leading columns, so whatever used the old index uses this one,
-- and posting writes no more index entries than before.
DROP INDEX messages_by_room;
CREATE INDEX messages_by_room ON messages (room_id, id, author_id, kind);
