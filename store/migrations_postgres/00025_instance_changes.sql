-- Replicas tell one another's open pages of the instances' changes: every
-- committed change of an instance's record, or of what its operation shows
-- (its status, its step, its error), notifies the channel
-- instancehub_instances with the instance's ID, which each replica listens
-- to (ListenInstanceChanges) and passes to the pages open on it. A lease's
-- renewal changes none of those columns and notifies no one.

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION instances_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'operations' THEN
        PERFORM pg_notify('instancehub_instances', NEW.instance_id::text);
    ELSE
        PERFORM pg_notify('instancehub_instances', NEW.id::text);
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER instances_notify AFTER INSERT OR UPDATE ON instances
    FOR EACH ROW EXECUTE FUNCTION instances_notify();
CREATE TRIGGER operations_notify AFTER INSERT OR UPDATE OF status, step, error_code, error_message, finished_at ON operations
    FOR EACH ROW EXECUTE FUNCTION instances_notify();

-- +goose Down
DROP TRIGGER operations_notify ON operations;
DROP TRIGGER instances_notify ON instances;
DROP FUNCTION instances_notify;
