-- Disabled accounts keep no links and no working tokens, and sign-in
-- failures are indexed by account and address, as SQLite's 00020: see
-- there.

-- +goose Up
DELETE FROM password_links WHERE user_id IN (SELECT id FROM users WHERE disabled_at <> 0);
UPDATE api_tokens SET revoked_at = (SELECT u.disabled_at FROM users u WHERE u.id = api_tokens.user_id)
WHERE revoked_at = 0
  AND expires_at > (SELECT u.disabled_at FROM users u WHERE u.id = api_tokens.user_id AND u.disabled_at <> 0);

DROP INDEX login_failures_email;
CREATE INDEX login_failures_email ON login_failures (email, source_ip);

-- +goose Down
-- Links and tokens ended stay ended.
DROP INDEX login_failures_email;
CREATE INDEX login_failures_email ON login_failures (email, at);
