-- Each instance's own upstream secret: the applications on its VM (the
-- Jupyter token) accept only the portal, which holds it. It is never shown
-- in a page or written to the audit log. Instances made before have none.

-- +goose Up
ALTER TABLE instances ADD COLUMN app_secret TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE instances DROP COLUMN app_secret;
