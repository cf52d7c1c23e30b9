-- Retention (-retention-days) deletes old messages: see the SQLite
-- migration 0015_retention.sql.
CREATE TABLE retention (
    id      BIGINT PRIMARY KEY CHECK (id = 1),
    horizon BIGINT NOT NULL
);

CREATE INDEX mentions_by_message ON mentions (message_id);
CREATE INDEX messages_by_reply ON messages (reply_to) WHERE reply_to IS NOT NULL;
