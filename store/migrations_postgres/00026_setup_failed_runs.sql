-- A failed setup script leaves a running, billed VM, as SQLite's 00026: see
-- there. The function of 00016 follows the billed states again.

-- +goose Up
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION running_intervals_follow() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    was_running BOOLEAN := TG_OP = 'UPDATE'
        AND OLD.state IN ('Running', 'Restarting', 'Stopping', 'SetupFailed', 'UserSetupFailed');
    is_running  BOOLEAN := NEW.state IN ('Running', 'Restarting', 'Stopping', 'SetupFailed', 'UserSetupFailed');
BEGIN
    IF is_running AND NOT was_running THEN
        INSERT INTO running_intervals (instance_id, started_at) VALUES (NEW.id, NEW.updated_at)
        ON CONFLICT (instance_id) WHERE stopped_at IS NULL DO NOTHING;
    ELSIF was_running AND NOT is_running THEN
        UPDATE running_intervals SET stopped_at = GREATEST(started_at, NEW.updated_at)
        WHERE instance_id = NEW.id AND stopped_at IS NULL;
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd
INSERT INTO running_intervals (instance_id, started_at)
SELECT id, updated_at FROM instances WHERE state IN ('SetupFailed', 'UserSetupFailed')
ON CONFLICT (instance_id) WHERE stopped_at IS NULL DO NOTHING;

-- +goose Down
UPDATE running_intervals r SET stopped_at = GREATEST(r.started_at, i.updated_at)
FROM instances i
WHERE i.id = r.instance_id AND r.stopped_at IS NULL AND i.state IN ('SetupFailed', 'UserSetupFailed');
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION running_intervals_follow() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    was_running BOOLEAN := TG_OP = 'UPDATE' AND OLD.state IN ('Running', 'Restarting', 'Stopping');
    is_running  BOOLEAN := NEW.state IN ('Running', 'Restarting', 'Stopping');
BEGIN
    IF is_running AND NOT was_running THEN
        INSERT INTO running_intervals (instance_id, started_at) VALUES (NEW.id, NEW.updated_at)
        ON CONFLICT (instance_id) WHERE stopped_at IS NULL DO NOTHING;
    ELSIF was_running AND NOT is_running THEN
        UPDATE running_intervals SET stopped_at = GREATEST(started_at, NEW.updated_at)
        WHERE instance_id = NEW.id AND stopped_at IS NULL;
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd
