-- Disabling an account now ends its links to set a password and revokes its
-- tokens that work, in the transaction that disables it, so that enabling
-- it again brings back neither a password chosen meanwhile nor a token that
-- may have leaked. The accounts disabled before are brought in line: their
-- links go, and their working tokens are revoked as of their disabling.
--
-- A sign-in is now judged by its account's failures from its address, and
-- nothing refuses an address's guesses at other accounts any more, so one
-- address may hold many rows: the account's index leads with the address,
-- so that those of one account and address are counted without reading the
-- account's others.

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
