-- Each account's last sign-in (issue 27), shown on the Users tab: set when a
-- sign-in starts a session, by password or single sign-on, in the
-- transaction that starts it; NULL for an account that never signed in
-- (every account before this migration).

-- +goose Up
ALTER TABLE users ADD COLUMN last_sign_in_at INTEGER;

-- +goose Down
ALTER TABLE users DROP COLUMN last_sign_in_at;
