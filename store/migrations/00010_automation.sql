-- What runs instances without their users: idle shutdown, start/stop
-- schedules and the record of their firings, the workspace's defaults, and
-- notices kept for a user's next visit.

-- +goose Up
-- The schedule or idle rule that started an automatic operation.
ALTER TABLE operations ADD COLUMN rule TEXT NOT NULL DEFAULT '';
ALTER TABLE instances ADD COLUMN idle_shutdown_minutes INTEGER NOT NULL DEFAULT 0; -- 0: off
ALTER TABLE instances ADD COLUMN idle_changed_at INTEGER;
ALTER TABLE instances ADD COLUMN keep_running_until INTEGER;

CREATE TABLE schedules (
    id          INTEGER PRIMARY KEY,
    instance_id INTEGER NOT NULL REFERENCES instances (id),
    action      TEXT    NOT NULL CHECK (action IN ('Start', 'Stop')),
    kind        TEXT    NOT NULL CHECK (kind IN ('Recurrence', 'Cron')),
    cron        TEXT    NOT NULL DEFAULT '',
    hours       TEXT    NOT NULL DEFAULT '', -- a recurrence's: "8,18"
    minutes     TEXT    NOT NULL DEFAULT '',
    week_days   TEXT    NOT NULL DEFAULT '', -- 0 is Sunday: "1,2,3,4,5"
    time_zone   TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX schedules_instance ON schedules (instance_id, id);

-- One row per occurrence: the primary key is what makes a schedule fire
-- once, whatever the number of portals or restarts. An occurrence is the
-- Unix millisecond it was due.
CREATE TABLE schedule_firings (
    schedule_id INTEGER NOT NULL REFERENCES schedules (id) ON DELETE CASCADE,
    occurrence  INTEGER NOT NULL,
    fired_at    INTEGER NOT NULL,
    result      TEXT    NOT NULL, -- claimed, started, skipped or failed
    reason      TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (schedule_id, occurrence)
) WITHOUT ROWID;

-- One row: the workspace's defaults.
CREATE TABLE workspace_settings (
    id                    INTEGER PRIMARY KEY CHECK (id = 1),
    idle_shutdown_on      INTEGER NOT NULL,
    idle_shutdown_minutes INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL
);

CREATE TABLE user_notices (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    message    TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX user_notices_user ON user_notices (user_id, id);

-- +goose Down
DROP TABLE user_notices;
DROP TABLE workspace_settings;
DROP TABLE schedule_firings;
DROP TABLE schedules;
ALTER TABLE instances DROP COLUMN keep_running_until;
ALTER TABLE instances DROP COLUMN idle_changed_at;
ALTER TABLE instances DROP COLUMN idle_shutdown_minutes;
ALTER TABLE operations DROP COLUMN rule;
