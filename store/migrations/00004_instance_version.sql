-- Every change of an instance counts up its version, so that the sync,
-- which compares a list read before asking Azure, never overwrites a change
-- made meanwhile.

-- +goose Up
ALTER TABLE instances ADD COLUMN version INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE instances DROP COLUMN version;
