-- The audit log's retention: events before a cut-off are written to a file
-- (instancehub audit archive, or Settings), the file is read back and
-- checked, and only then are they removed. Each archive is kept here for
-- good, and it alone lets the events it covers be deleted: those before its
-- cut-off, up to its last ID, which its file holds. Every other event stays
-- as append-only as before, and no archive is ever changed or removed.

-- +goose Up
CREATE TABLE audit_archives (
    id         INTEGER PRIMARY KEY,
    at         INTEGER NOT NULL,            -- when the events were archived
    user_id    INTEGER,                     -- who archived them; NULL for the command line
    user_name  TEXT    NOT NULL DEFAULT '',
    user_email TEXT    NOT NULL DEFAULT '',
    cutoff     INTEGER NOT NULL,            -- the events before this time
    first_at   INTEGER NOT NULL,            -- the oldest event archived
    last_at    INTEGER NOT NULL,            -- the newest event archived
    last_id    INTEGER NOT NULL,            -- the highest ID archived
    count      INTEGER NOT NULL,            -- how many events
    file       TEXT    NOT NULL,            -- where the file was written
    digest     TEXT    NOT NULL             -- its SHA-256, hex
);

-- +goose StatementBegin
CREATE TRIGGER audit_archives_append_only_update BEFORE UPDATE ON audit_archives
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_archives_append_only_delete BEFORE DELETE ON audit_archives
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
-- +goose StatementEnd

DROP TRIGGER audit_events_append_only_delete;
-- +goose StatementBegin
CREATE TRIGGER audit_events_append_only_delete BEFORE DELETE ON audit_events
WHEN NOT EXISTS (SELECT 1 FROM audit_archives a WHERE OLD.at < a.cutoff AND OLD.id <= a.last_id)
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only: only events archived to a checked file may be removed');
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER audit_events_append_only_delete;
-- +goose StatementBegin
CREATE TRIGGER audit_events_append_only_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
-- +goose StatementEnd
DROP TRIGGER audit_archives_append_only_delete;
DROP TRIGGER audit_archives_append_only_update;
DROP TABLE audit_archives;
