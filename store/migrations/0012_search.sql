-- Full-text search over what people wrote: text messages and
-- announcements (kinds 0 and 4), never system lines. The index keeps no
-- copy of the text (external content: messages is read for snippets).
--
-- room_id and author_id are indexed too, as tokens ("17"), so a search
-- can ask FTS5 itself for "these words AND one of my rooms" (or "AND by
-- this author"): a common word then costs the person's share of its
-- matches, not every match in the database. They weigh nothing in the
-- ranking (the 'rank' setting below). Membership is still checked in SQL
-- by every search; the tokens only make it fast.
--
-- Named 0012: 0011 belongs to message edits and deletes, whose UPDATEs of
-- body the triggers below follow.
CREATE VIRTUAL TABLE messages_fts USING fts5(
    body, room_id, author_id,
    content = 'messages', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);

INSERT INTO messages_fts (messages_fts, rank) VALUES ('rank', 'bm25(1.0, 0.0, 0.0)');

-- Not 'rebuild': it would index every row of messages, system lines too.
INSERT INTO messages_fts (rowid, body, room_id, author_id)
SELECT id, body, room_id, author_id FROM messages WHERE kind IN (0, 4) AND body <> '';

CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages
WHEN NEW.kind IN (0, 4) AND NEW.body <> ''
BEGIN
    INSERT INTO messages_fts (rowid, body, room_id, author_id) VALUES (NEW.id, NEW.body, NEW.room_id, NEW.author_id);
END;

-- An edit replaces the indexed text; a delete (body = '') only removes
-- it. The 'delete' must name exactly what was indexed: the old values.
CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages
WHEN OLD.kind IN (0, 4)
BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body, room_id, author_id)
    SELECT 'delete', OLD.id, OLD.body, OLD.room_id, OLD.author_id WHERE OLD.body <> '';
    INSERT INTO messages_fts (rowid, body, room_id, author_id)
    SELECT NEW.id, NEW.body, NEW.room_id, NEW.author_id WHERE NEW.body <> '';
END;

CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
WHEN OLD.kind IN (0, 4) AND OLD.body <> ''
BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body, room_id, author_id) VALUES ('delete', OLD.id, OLD.body, OLD.room_id, OLD.author_id);
END;
