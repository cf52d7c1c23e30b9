-- How far the search index has caught up (store/textindex.go): messages
-- up to upto are indexed, or are not text. New messages are indexed a few
-- times a second rather than in every commit, and before any change to a
-- message's text or any search; every process that writes reads and moves
-- this mark in its own transactions. Until now every commit indexed its
-- messages, so the index is complete up to the newest id.
CREATE TABLE search_progress (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    upto INTEGER NOT NULL
);
INSERT INTO search_progress (id, upto)
SELECT 1, COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'messages'), 0);
