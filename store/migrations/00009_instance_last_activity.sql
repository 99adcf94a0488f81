-- The last time a person used an instance's applications, as the
-- applications gateway saw it (in Unix milliseconds, 0 for never): the
-- details page shows it, and idle shutdown counts from it. The gateway
-- writes it at most once a minute per instance, and it is not a change of
-- the instance: its version stays, so the sync is not disturbed.

-- +goose Up
ALTER TABLE instances ADD COLUMN last_activity_at INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE instances DROP COLUMN last_activity_at;
