-- The image an instance's VM was made from, version included, as Azure
-- reports it: the details page shows it, as the reference product does.

-- +goose Up
ALTER TABLE instances ADD COLUMN image TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE instances DROP COLUMN image;
