-- The vCPUs held in each region by family (instances in the states that
-- hold workspace quota, instancehub.WorkspaceQuotaStates), kept by a
-- trigger in the transaction of each change, so that a create's checks
-- read a few rows instead of summing every instance of its region.

-- +goose Up
CREATE TABLE quota_held (
    region TEXT   NOT NULL,
    family TEXT   NOT NULL,
    vcpus  BIGINT NOT NULL,
    PRIMARY KEY (region, family)
);

INSERT INTO quota_held (region, family, vcpus)
    SELECT region, family, SUM(vcpus) FROM instances
    WHERE state IN ('Creating', 'Running', 'Stopping', 'Starting', 'Restarting', 'Unusable', 'Unknown', 'SetupFailed', 'UserSetupFailed') GROUP BY region, family;

-- +goose StatementBegin
CREATE FUNCTION quota_held_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        IF OLD.state IN ('Creating', 'Running', 'Stopping', 'Starting', 'Restarting', 'Unusable', 'Unknown', 'SetupFailed', 'UserSetupFailed') THEN
            UPDATE quota_held SET vcpus = vcpus - OLD.vcpus WHERE region = OLD.region AND family = OLD.family;
        END IF;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        IF NEW.state IN ('Creating', 'Running', 'Stopping', 'Starting', 'Restarting', 'Unusable', 'Unknown', 'SetupFailed', 'UserSetupFailed') THEN
            INSERT INTO quota_held (region, family, vcpus) VALUES (NEW.region, NEW.family, NEW.vcpus)
                ON CONFLICT (region, family) DO UPDATE SET vcpus = quota_held.vcpus + excluded.vcpus;
        END IF;
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER quota_held_change AFTER INSERT OR DELETE OR UPDATE OF state, region, family, vcpus ON instances
    FOR EACH ROW EXECUTE FUNCTION quota_held_change();

-- A page of the list by name picks its 50 IDs after skipping those of the
-- pages before it (OFFSET), in the order of this index, instead of sorting
-- every live instance for each page (the unique index on name alone does
-- not give the order of name, id). The order of creation has its index
-- (instances_live_created).
CREATE INDEX instances_live_name_id ON instances (name, id) WHERE state <> 'Deleted';

-- +goose Down
DROP INDEX instances_live_name_id;
DROP TRIGGER quota_held_change ON instances;
DROP FUNCTION quota_held_change();
DROP TABLE quota_held;
