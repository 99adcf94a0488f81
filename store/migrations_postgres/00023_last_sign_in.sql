-- Each account's last sign-in, as SQLite's 00023: see there.

-- +goose Up
ALTER TABLE users ADD COLUMN last_sign_in_at BIGINT;

-- +goose Down
ALTER TABLE users DROP COLUMN last_sign_in_at;
