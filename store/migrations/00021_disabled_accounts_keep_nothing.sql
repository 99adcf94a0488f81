-- Disabling an account now ends its links to set a password and revokes its
-- tokens that work, in the transaction that disables it, so that enabling
-- it again brings back neither a password chosen meanwhile nor a token that
-- may have leaked. The accounts disabled before are brought in line: their
-- links go, and their working tokens are revoked as of their disabling.

-- +goose Up
DELETE FROM password_links WHERE user_id IN (SELECT id FROM users WHERE disabled_at <> 0);
UPDATE api_tokens SET revoked_at = (SELECT u.disabled_at FROM users u WHERE u.id = api_tokens.user_id)
WHERE revoked_at = 0
  AND expires_at > (SELECT u.disabled_at FROM users u WHERE u.id = api_tokens.user_id AND u.disabled_at <> 0);

-- +goose Down
-- Nothing to undo: links and tokens ended stay ended.
