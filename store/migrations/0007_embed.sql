-- Sites that embed chat rooms in their pages. The secret signs the tokens
-- a site's server makes for its users; it must be kept to verify them.
CREATE TABLE embed_sites (
    id                INTEGER PRIMARY KEY,
    origin            TEXT    NOT NULL UNIQUE,
    all_public        INTEGER NOT NULL DEFAULT 0,
    guests            INTEGER NOT NULL DEFAULT 0,
    secret            TEXT    NOT NULL,
    accent            TEXT    NOT NULL DEFAULT '',
    bg                TEXT    NOT NULL DEFAULT '',
    font              TEXT    NOT NULL DEFAULT '',
    density           TEXT    NOT NULL DEFAULT '',
    scheme            TEXT    NOT NULL DEFAULT '',
    disabled_at       INTEGER,
    created_by        INTEGER NOT NULL REFERENCES users (id),
    created_at        INTEGER NOT NULL,
    secret_rotated_at INTEGER NOT NULL
);

CREATE TABLE embed_site_rooms (
    site_id INTEGER NOT NULL REFERENCES embed_sites (id),
    room_id INTEGER NOT NULL REFERENCES rooms (id),
    PRIMARY KEY (site_id, room_id)
) WITHOUT ROWID;

CREATE INDEX embed_site_rooms_by_room ON embed_site_rooms (room_id);

-- A token's nonce is kept until the token would have expired: a token
-- works once.
CREATE TABLE embed_nonces (
    site_id INTEGER NOT NULL,
    nonce   TEXT    NOT NULL,
    expiry  INTEGER NOT NULL,
    PRIMARY KEY (site_id, nonce)
) WITHOUT ROWID;

CREATE INDEX embed_nonces_by_expiry ON embed_nonces (expiry);

-- A site's users are accounts of their own kind: their username is made up
-- here (it holds "~", which local usernames cannot), so it can never be a
-- local user's; they are known by (site, their id on the site).
ALTER TABLE users ADD COLUMN site_id INTEGER REFERENCES embed_sites (id);
ALTER TABLE users ADD COLUMN external_id TEXT;

CREATE UNIQUE INDEX users_by_site ON users (site_id, external_id) WHERE site_id IS NOT NULL;
