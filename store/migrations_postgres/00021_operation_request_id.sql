-- The request that started each operation, as SQLite's 00022: see there.

-- +goose Up
ALTER TABLE operations ADD COLUMN request_id TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE operations DROP COLUMN request_id;
