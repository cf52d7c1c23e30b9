-- The idempotency index leads with the client id rather than the author.
-- Ids the server hands out begin with the time (chat.NewClientID), so new
-- posts land at the index's end: a commit of 15 posts by 15 people writes
-- one or two of its pages, not fifteen. The pair stays unique, and
-- ON CONFLICT (author_id, client_id) names the same columns.
DROP INDEX messages_by_client_id;
CREATE UNIQUE INDEX messages_by_client_id ON messages (client_id, author_id) WHERE client_id IS NOT NULL;
