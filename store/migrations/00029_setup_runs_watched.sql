-- PostgreSQL's 00029 has setup_runs watched by its data_version; SQLite's
-- PRAGMA data_version follows every table: nothing to do here, the number
-- kept in step.

-- +goose Up
SELECT 1;

-- +goose Down
SELECT 1;
