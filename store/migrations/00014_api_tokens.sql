-- Personal access tokens for the JSON API: only the SHA-256 hash of a
-- token is kept, with a short prefix the owner recognises it by. A token
-- revoked or expired stays listed until it is a year old, for the record.

-- +goose Up
CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    prefix       TEXT NOT NULL,
    read_only    INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL DEFAULT 0,
    revoked_at   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX api_tokens_user ON api_tokens (user_id, id);
-- A user's live tokens have distinct names, so that a list can tell them apart.
CREATE UNIQUE INDEX api_tokens_live_name ON api_tokens (user_id, name COLLATE NOCASE) WHERE revoked_at = 0;

-- +goose Down
DROP TABLE api_tokens;
