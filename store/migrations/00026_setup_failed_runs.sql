-- An instance whose setup script failed (SetupFailed, UserSetupFailed) is a
-- VM that was made or started and keeps running: Azure bills it as it bills
-- a Running one, so its running time counts (issue 28). The triggers of
-- 00016 are made again with the billed states of instancehub.State.Billed,
-- and an instance in one of these states now runs from its last change.

-- +goose Up
DROP TRIGGER running_intervals_open_on_insert;
DROP TRIGGER running_intervals_open;
DROP TRIGGER running_intervals_close;
-- +goose StatementBegin
CREATE TRIGGER running_intervals_open_on_insert AFTER INSERT ON instances
WHEN NEW.state IN ('Running', 'Restarting', 'Stopping', 'SetupFailed', 'UserSetupFailed')
BEGIN
    INSERT OR IGNORE INTO running_intervals (instance_id, started_at) VALUES (NEW.id, NEW.updated_at);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER running_intervals_open AFTER UPDATE OF state ON instances
WHEN NEW.state IN ('Running', 'Restarting', 'Stopping', 'SetupFailed', 'UserSetupFailed')
 AND OLD.state NOT IN ('Running', 'Restarting', 'Stopping', 'SetupFailed', 'UserSetupFailed')
BEGIN
    INSERT OR IGNORE INTO running_intervals (instance_id, started_at) VALUES (NEW.id, NEW.updated_at);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER running_intervals_close AFTER UPDATE OF state ON instances
WHEN OLD.state IN ('Running', 'Restarting', 'Stopping', 'SetupFailed', 'UserSetupFailed')
 AND NEW.state NOT IN ('Running', 'Restarting', 'Stopping', 'SetupFailed', 'UserSetupFailed')
BEGIN
    UPDATE running_intervals SET stopped_at = MAX(started_at, NEW.updated_at)
    WHERE instance_id = NEW.id AND stopped_at IS NULL;
END;
-- +goose StatementEnd
INSERT OR IGNORE INTO running_intervals (instance_id, started_at)
SELECT id, updated_at FROM instances WHERE state IN ('SetupFailed', 'UserSetupFailed');

-- +goose Down
UPDATE running_intervals SET stopped_at = MAX(started_at, (SELECT updated_at FROM instances i WHERE i.id = instance_id))
WHERE stopped_at IS NULL AND instance_id IN (SELECT id FROM instances WHERE state IN ('SetupFailed', 'UserSetupFailed'));
DROP TRIGGER running_intervals_open_on_insert;
DROP TRIGGER running_intervals_open;
DROP TRIGGER running_intervals_close;
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
    UPDATE running_intervals SET stopped_at = MAX(started_at, NEW.updated_at)
    WHERE instance_id = NEW.id AND stopped_at IS NULL;
END;
-- +goose StatementEnd
