-- The first schema: people, their browser sessions, their instances and the
-- operations carried out on them.
--
-- Times are Unix milliseconds (INTEGER, UTC): compact, and they sort as
-- numbers. A NULL time means "not yet" (an operation still in progress).

-- +goose Up
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    email         TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    name          TEXT    NOT NULL,
    password_hash TEXT    NOT NULL DEFAULT '', -- '' for single sign-on only
    created_at    INTEGER NOT NULL
);

CREATE TABLE sessions (
    token_hash   TEXT    PRIMARY KEY, -- SHA-256 of the cookie's token
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
);
CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

CREATE TABLE instances (
    id              INTEGER PRIMARY KEY,
    name            TEXT    NOT NULL COLLATE NOCASE,
    region          TEXT    NOT NULL,
    vm_size         TEXT    NOT NULL,
    family          TEXT    NOT NULL,
    vcpus           INTEGER NOT NULL,
    memory_gib      REAL    NOT NULL,
    gpus            INTEGER NOT NULL DEFAULT 0,
    ssh_enabled     INTEGER NOT NULL DEFAULT 0, -- 0 or 1
    ssh_public_key  TEXT    NOT NULL DEFAULT '',
    ssh_port        INTEGER NOT NULL DEFAULT 0,
    virtual_network TEXT    NOT NULL DEFAULT '',
    subnet          TEXT    NOT NULL DEFAULT '',
    state           TEXT    NOT NULL,
    private_ip      TEXT    NOT NULL DEFAULT '',
    public_ip       TEXT    NOT NULL DEFAULT '',
    owner_id        INTEGER NOT NULL REFERENCES users (id),
    created_by_id   INTEGER NOT NULL REFERENCES users (id),
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
-- A deleted instance keeps its row for the history of its operations, and
-- frees its name. "Live" means state <> 'Deleted' everywhere below; queries
-- must repeat that condition word for word for SQLite to use these indexes.
CREATE UNIQUE INDEX instances_live_name ON instances (name) WHERE state <> 'Deleted';
CREATE INDEX instances_live_created ON instances (created_at, id) WHERE state <> 'Deleted';
CREATE INDEX instances_live_owner ON instances (owner_id, created_at, id) WHERE state <> 'Deleted';

CREATE TABLE operations (
    id            INTEGER PRIMARY KEY, -- increasing: the newest has the largest
    instance_id   INTEGER NOT NULL REFERENCES instances (id),
    kind          TEXT    NOT NULL,
    status        TEXT    NOT NULL,
    triggered_by  TEXT    NOT NULL,
    user_id       INTEGER REFERENCES users (id), -- NULL when no person started it
    step          TEXT    NOT NULL DEFAULT '',
    resume_token  TEXT    NOT NULL DEFAULT '',
    error_code    TEXT    NOT NULL DEFAULT '',
    error_message TEXT    NOT NULL DEFAULT '',
    started_at    INTEGER NOT NULL,
    finished_at   INTEGER
);
-- An instance's operations, newest first, and its last one.
CREATE INDEX operations_instance ON operations (instance_id, id);
-- At most one operation per instance is in progress; the index also lists
-- the pending operations after a restart.
CREATE UNIQUE INDEX operations_in_progress ON operations (instance_id) WHERE status = 'InProgress';

-- +goose Down
DROP TABLE operations;
DROP TABLE instances;
DROP TABLE sessions;
DROP TABLE users;
