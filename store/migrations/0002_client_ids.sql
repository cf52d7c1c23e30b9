-- A client-chosen id per message makes posting idempotent: a retried or
-- double-submitted post finds the row its first attempt stored.
ALTER TABLE messages ADD COLUMN client_id TEXT;

CREATE UNIQUE INDEX messages_by_client_id ON messages (author_id, client_id) WHERE client_id IS NOT NULL;
