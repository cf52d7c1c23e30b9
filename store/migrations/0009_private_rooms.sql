-- Private rooms are rooms of kind 3: every check for a public room
-- (kind = 0: listing, joining, embedding, the unique name index) already
-- leaves them out, so their names are not unique and creating a public
-- room never tells anyone that a private one of that name exists.

-- Room admins manage a room. The flag lives on the membership, so leaving
-- or being removed ends it too. Existing rooms' creators are their admins.
ALTER TABLE memberships ADD COLUMN room_admin INTEGER NOT NULL DEFAULT 0;

UPDATE memberships SET room_admin = 1
WHERE EXISTS (SELECT 1 FROM rooms r
              WHERE r.id = memberships.room_id AND r.created_by = memberships.user_id AND r.kind = 0);

-- A group conversation's name, chosen by its members ('' = named by them).
ALTER TABLE rooms ADD COLUMN group_name TEXT NOT NULL DEFAULT '';

-- Invite links. As with sign-in links only a hash of the token is kept, so
-- a copy of the database lets nobody in.
CREATE TABLE room_invites (
    id         INTEGER PRIMARY KEY,
    token_hash BLOB    NOT NULL UNIQUE,
    room_id    INTEGER NOT NULL REFERENCES rooms (id),
    created_by INTEGER NOT NULL REFERENCES users (id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    max_uses   INTEGER NOT NULL, -- 0: any number
    uses       INTEGER NOT NULL DEFAULT 0,
    revoked_at INTEGER,
    -- The newest message id when the link was made: a member removed after
    -- it (a later removal line) cannot come back with it.
    since_message INTEGER NOT NULL
);

CREATE INDEX room_invites_by_room ON room_invites (room_id, id);

-- Removals by member: an invite link made before someone's removal does
-- not let them back in, and a removed person's stream, resuming, learns of
-- the removal (their rooms' lines no longer reach them).
CREATE INDEX messages_removals ON messages (author_id, room_id, id) WHERE kind = 3;
