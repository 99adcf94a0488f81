-- When an Owner disabled the account (Unix milliseconds), 0 for enabled: a
-- disabled account cannot sign in and has no session; its instances stay.

-- +goose Up
ALTER TABLE users ADD COLUMN disabled_at INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE users DROP COLUMN disabled_at;
