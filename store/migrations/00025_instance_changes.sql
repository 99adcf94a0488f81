-- PostgreSQL's migration 00025 has replicas notify one another of the
-- instances' changes. A SQLite portal is alone with its database (it holds
-- the data directory's lock), and tells its pages itself: nothing to do.

-- +goose Up
SELECT 1;

-- +goose Down
SELECT 1;
