-- The idempotency index leads with the client id: see the SQLite migration
-- 0017_client_ids_by_time.sql.
DROP INDEX messages_by_client_id;
CREATE UNIQUE INDEX messages_by_client_id ON messages (client_id, author_id) WHERE client_id IS NOT NULL;
