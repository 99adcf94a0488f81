-- Setup scripts, as SQLite's 00026: see there.

-- +goose Up
ALTER TABLE instances ADD COLUMN setup_scripts TEXT NOT NULL DEFAULT '';
CREATE TABLE setup_runs (
    instance_id BIGINT  PRIMARY KEY REFERENCES instances(id) ON DELETE CASCADE,
    phase       TEXT    NOT NULL,
    exit_code   INTEGER NOT NULL,
    timed_out   BOOLEAN NOT NULL DEFAULT FALSE,
    log         TEXT    NOT NULL DEFAULT '',
    ran_at      BIGINT  NOT NULL
);

-- +goose Down
DROP TABLE setup_runs;
ALTER TABLE instances DROP COLUMN setup_scripts;
