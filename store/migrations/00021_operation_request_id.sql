-- Each operation keeps the ID of the request that started it, so that the
-- lines it logs name that request on whichever portal drives it, after a
-- restart or a takeover too. '' for the portal's own (schedules, idle
-- shutdown) and for operations started before.

-- +goose Up
ALTER TABLE operations ADD COLUMN request_id TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE operations DROP COLUMN request_id;
