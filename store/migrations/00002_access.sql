-- Access control: single sign-on subjects, role assignments, the audit log
-- and the record of failed sign-ins that limits guessing.

-- +goose Up
ALTER TABLE users ADD COLUMN subject TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX users_subject ON users (subject) WHERE subject <> '';

CREATE TABLE role_assignments (
    id             INTEGER PRIMARY KEY,
    user_id        INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role           TEXT    NOT NULL,
    assigned_by_id INTEGER REFERENCES users (id) ON DELETE SET NULL, -- NULL: command line or single sign-on
    assigned_at    INTEGER NOT NULL,
    source         TEXT    NOT NULL DEFAULT 'portal', -- portal, cli or sso
    UNIQUE (user_id, role)
);
CREATE INDEX role_assignments_role ON role_assignments (role);

-- A portal that ran before roles existed had one kind of user: its first
-- account becomes its Owner, the others ask an Owner for access.
INSERT INTO role_assignments (user_id, role, assigned_at, source)
SELECT id, 'Owner', created_at, 'cli' FROM users ORDER BY id LIMIT 1;

-- The audit log keeps names as they were, and outlives the users it names.
CREATE TABLE audit_events (
    id         INTEGER PRIMARY KEY,
    at         INTEGER NOT NULL,
    user_id    INTEGER,
    user_name  TEXT    NOT NULL DEFAULT '',
    user_email TEXT    NOT NULL DEFAULT '',
    action     TEXT    NOT NULL,
    target     TEXT    NOT NULL DEFAULT '',
    result     TEXT    NOT NULL,
    reason     TEXT    NOT NULL DEFAULT '',
    source_ip  TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX audit_events_at ON audit_events (at, id);

-- Nothing, not even the portal, changes or removes an event.
-- +goose StatementBegin
CREATE TRIGGER audit_events_append_only_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_events_append_only_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
-- +goose StatementEnd

CREATE TABLE login_failures (
    id        INTEGER PRIMARY KEY,
    email     TEXT    NOT NULL COLLATE NOCASE,
    source_ip TEXT    NOT NULL,
    at        INTEGER NOT NULL
);
CREATE INDEX login_failures_email ON login_failures (email, at);
CREATE INDEX login_failures_source ON login_failures (source_ip, at);

-- +goose Down
DROP TABLE login_failures;
DROP TRIGGER audit_events_append_only_delete;
DROP TRIGGER audit_events_append_only_update;
DROP TABLE audit_events;
DROP TABLE role_assignments;
DROP INDEX users_subject;
ALTER TABLE users DROP COLUMN subject;
