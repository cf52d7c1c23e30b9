-- Changes made with `rtmessenger admin` (the command line) have no account
-- behind them: their actor is NULL.
ALTER TABLE profile_changes ALTER COLUMN changed_by DROP NOT NULL;
ALTER TABLE sign_in_links ALTER COLUMN created_by DROP NOT NULL;
