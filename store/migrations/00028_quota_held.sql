-- The vCPUs held in each region by family (instances in the states that
-- hold workspace quota, instancehub.WorkspaceQuotaStates), kept by
-- triggers in the transaction of each change, so that a create's checks
-- read a few rows instead of summing every instance of its region.

-- +goose Up
CREATE TABLE quota_held (
    region TEXT    NOT NULL,
    family TEXT    NOT NULL,
    vcpus  INTEGER NOT NULL,
    PRIMARY KEY (region, family)
);

INSERT INTO quota_held (region, family, vcpus)
    SELECT region, family, SUM(vcpus) FROM instances
    WHERE state IN ('Creating', 'Running', 'Stopping', 'Starting', 'Restarting', 'Unusable', 'Unknown', 'SetupFailed', 'UserSetupFailed') GROUP BY region, family;

-- +goose StatementBegin
CREATE TRIGGER quota_held_insert AFTER INSERT ON instances
WHEN NEW.state IN ('Creating', 'Running', 'Stopping', 'Starting', 'Restarting', 'Unusable', 'Unknown', 'SetupFailed', 'UserSetupFailed')
BEGIN
    INSERT INTO quota_held (region, family, vcpus) VALUES (NEW.region, NEW.family, NEW.vcpus)
        ON CONFLICT (region, family) DO UPDATE SET vcpus = vcpus + excluded.vcpus;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER quota_held_delete AFTER DELETE ON instances
WHEN OLD.state IN ('Creating', 'Running', 'Stopping', 'Starting', 'Restarting', 'Unusable', 'Unknown', 'SetupFailed', 'UserSetupFailed')
BEGIN
    UPDATE quota_held SET vcpus = vcpus - OLD.vcpus WHERE region = OLD.region AND family = OLD.family;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER quota_held_update AFTER UPDATE OF state, region, family, vcpus ON instances
BEGIN
    UPDATE quota_held SET vcpus = vcpus - OLD.vcpus
        WHERE OLD.state IN ('Creating', 'Running', 'Stopping', 'Starting', 'Restarting', 'Unusable', 'Unknown', 'SetupFailed', 'UserSetupFailed') AND region = OLD.region AND family = OLD.family;
    INSERT INTO quota_held (region, family, vcpus)
        SELECT NEW.region, NEW.family, NEW.vcpus WHERE NEW.state IN ('Creating', 'Running', 'Stopping', 'Starting', 'Restarting', 'Unusable', 'Unknown', 'SetupFailed', 'UserSetupFailed')
        ON CONFLICT (region, family) DO UPDATE SET vcpus = vcpus + excluded.vcpus;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER quota_held_update;
DROP TRIGGER quota_held_delete;
DROP TRIGGER quota_held_insert;
DROP TABLE quota_held;
