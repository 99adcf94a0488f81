-- Setup scripts (issue 28): an instance's creation and startup scripts (a
-- JSON object, '' for none), and the last run of either, with its output's
-- tail and exit code, apart from the instances so that the list's pages do
-- not read the logs.

-- +goose Up
ALTER TABLE instances ADD COLUMN setup_scripts TEXT NOT NULL DEFAULT '';
CREATE TABLE setup_runs (
    instance_id INTEGER PRIMARY KEY REFERENCES instances(id) ON DELETE CASCADE,
    phase       TEXT    NOT NULL,
    exit_code   INTEGER NOT NULL,
    timed_out   INTEGER NOT NULL DEFAULT 0,
    log         TEXT    NOT NULL DEFAULT '',
    ran_at      INTEGER NOT NULL
);

-- +goose Down
DROP TABLE setup_runs;
ALTER TABLE instances DROP COLUMN setup_scripts;
