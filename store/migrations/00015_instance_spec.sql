-- What the API and the az ml file set on an instance besides the form's
-- fields: a description, tags (a JSON object), the VM's managed identity
-- (system-assigned, and user-assigned resource IDs as a JSON array), and
-- the Idempotency-Key of the create, unique per creator, so that a retried
-- create finds the instance the first one made, even from another process.

-- +goose Up
ALTER TABLE instances ADD COLUMN description TEXT NOT NULL DEFAULT '';
ALTER TABLE instances ADD COLUMN tags TEXT NOT NULL DEFAULT '';
ALTER TABLE instances ADD COLUMN identity_system INTEGER NOT NULL DEFAULT 0;
ALTER TABLE instances ADD COLUMN identity_user TEXT NOT NULL DEFAULT '';
ALTER TABLE instances ADD COLUMN idempotency_key TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX instances_idempotency_key ON instances (created_by_id, idempotency_key) WHERE idempotency_key <> '';

-- +goose Down
DROP INDEX instances_idempotency_key;
ALTER TABLE instances DROP COLUMN idempotency_key;
ALTER TABLE instances DROP COLUMN identity_user;
ALTER TABLE instances DROP COLUMN identity_system;
ALTER TABLE instances DROP COLUMN tags;
ALTER TABLE instances DROP COLUMN description;
