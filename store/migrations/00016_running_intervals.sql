-- The running time of instances, from which their cost is estimated: one
-- interval per stretch an instance's compute was billed (Running, and the
-- Restarting and Stopping that keep its VM allocated), open while it lasts.
-- Triggers on the instances' state keep it, so that every writer (an
-- operation, the sync, another process, an adopted VM) records it in the
-- same transaction as the change, at the instance's updated_at.
--
-- The states listed here are those instancehub.State.Billed names; a store
-- test checks that they agree.

-- +goose Up
CREATE TABLE running_intervals (
    id          INTEGER PRIMARY KEY,
    instance_id INTEGER NOT NULL REFERENCES instances (id),
    started_at  INTEGER NOT NULL,
    stopped_at  INTEGER -- NULL while it runs
);
CREATE UNIQUE INDEX running_intervals_open ON running_intervals (instance_id) WHERE stopped_at IS NULL;
CREATE INDEX running_intervals_instance ON running_intervals (instance_id, started_at);
-- A month's intervals in a region: those still open or stopped since.
CREATE INDEX running_intervals_stopped_at ON running_intervals (stopped_at);

-- +goose StatementBegin
CREATE TRIGGER running_intervals_open_on_insert AFTER INSERT ON instances
WHEN NEW.state IN ('Running', 'Restarting', 'Stopping')
BEGIN
    INSERT OR IGNORE INTO running_intervals (instance_id, started_at) VALUES (NEW.id, NEW.updated_at);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER running_intervals_open AFTER UPDATE OF state ON instances
WHEN NEW.state IN ('Running', 'Restarting', 'Stopping')
 AND OLD.state NOT IN ('Running', 'Restarting', 'Stopping')
BEGIN
    INSERT OR IGNORE INTO running_intervals (instance_id, started_at) VALUES (NEW.id, NEW.updated_at);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER running_intervals_close AFTER UPDATE OF state ON instances
WHEN OLD.state IN ('Running', 'Restarting', 'Stopping')
 AND NEW.state NOT IN ('Running', 'Restarting', 'Stopping')
BEGIN
    -- A writer that left updated_at as it was must not end an interval
    -- before it began.
    UPDATE running_intervals SET stopped_at = MAX(started_at, NEW.updated_at)
    WHERE instance_id = NEW.id AND stopped_at IS NULL;
END;
-- +goose StatementEnd

-- Instances running now have run since their last change, as far as the
-- portal knows.
INSERT INTO running_intervals (instance_id, started_at)
SELECT id, updated_at FROM instances WHERE state IN ('Running', 'Restarting', 'Stopping');

-- +goose Down
DROP TRIGGER running_intervals_close;
DROP TRIGGER running_intervals_open;
DROP TRIGGER running_intervals_open_on_insert;
DROP TABLE running_intervals;
