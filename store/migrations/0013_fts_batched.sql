-- New messages are indexed for search by the writer, once per batch, in
-- the batch's transaction (store/textindex.go), not by a trigger per row:
-- FTS5 writes its pending index to disk at every statement savepoint, so
-- a trigger made one index segment (and its merges) per message, a third
-- of what posting cost. Edits and deletes keep their trigger.
DROP TRIGGER messages_fts_insert;
