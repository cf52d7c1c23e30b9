-- The idempotency index leads with the client id: see the SQLite migration
-- 0017_client_ids_by_time.sql. The new index is built before the old one
-- is dropped: while it builds, posts wait but reads go on; dropping takes
-- the table's exclusive lock only from there to this migration's commit.
CREATE UNIQUE INDEX messages_by_client_id_new ON messages (client_id, author_id) WHERE client_id IS NOT NULL;
DROP INDEX messages_by_client_id;
ALTER INDEX messages_by_client_id_new RENAME TO messages_by_client_id;
