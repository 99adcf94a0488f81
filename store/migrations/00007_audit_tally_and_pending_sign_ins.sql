-- Refusals a stranger can repeat at will are tallied: one event per minute,
-- action, result, user and source, with a count, instead of one row each.
-- A sign-in attempt is pending while its password is checked: it holds its
-- address's place under the limit, but only a wrong password makes it a
-- failure.

-- +goose Up
ALTER TABLE audit_events ADD COLUMN count INTEGER NOT NULL DEFAULT 1;
-- The minute (Unix milliseconds) of a tallied event; NULL for the events
-- kept one by one.
ALTER TABLE audit_events ADD COLUMN tally_minute INTEGER;
CREATE UNIQUE INDEX audit_events_tally ON audit_events (tally_minute, action, result, user_email, source_ip)
    WHERE tally_minute IS NOT NULL;

-- Still nothing changes or removes an event, except that a tallied event's
-- count may grow.
DROP TRIGGER audit_events_append_only_update;
-- +goose StatementBegin
CREATE TRIGGER audit_events_append_only_update
BEFORE UPDATE OF id, at, user_id, user_name, user_email, action, target, result, reason, source_ip, tally_minute
ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_events_count_only_grows BEFORE UPDATE OF count ON audit_events
WHEN OLD.tally_minute IS NULL OR NEW.count <= OLD.count
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
-- +goose StatementEnd

ALTER TABLE login_failures ADD COLUMN pending INTEGER NOT NULL DEFAULT 0; -- 1 while the password is checked

-- +goose Down
ALTER TABLE login_failures DROP COLUMN pending;
DROP TRIGGER audit_events_count_only_grows;
DROP TRIGGER audit_events_append_only_update;
DROP INDEX audit_events_tally;
ALTER TABLE audit_events DROP COLUMN tally_minute;
ALTER TABLE audit_events DROP COLUMN count;
-- +goose StatementBegin
CREATE TRIGGER audit_events_append_only_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
-- +goose StatementEnd
