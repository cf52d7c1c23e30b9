-- Retention (-retention-days) deletes old messages. horizon is the newest
-- message id it deleted (or a restore declared lost): a stream resuming
-- from before it cannot be replayed whole, so replay tells the page to
-- reload instead. No row: nothing was ever deleted.
CREATE TABLE retention (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    horizon INTEGER NOT NULL
);

-- What retention deletes along with a message, found by its id.
CREATE INDEX mentions_by_message ON mentions (message_id);
CREATE INDEX messages_by_reply ON messages (reply_to) WHERE reply_to IS NOT NULL;
