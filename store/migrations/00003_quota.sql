-- The workspace's own vCPU limits per region, by family and in total
-- ('cores'), which Owners set below the subscription's.

-- +goose Up
CREATE TABLE workspace_quotas (
    region     TEXT    NOT NULL,
    family     TEXT    NOT NULL, -- a quota family, or 'cores' for the region's total
    vcpu_limit INTEGER NOT NULL CHECK (vcpu_limit >= 0),
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (region, family)
);
-- What holds quota in a region is summed on every create and start.
CREATE INDEX instances_region_family ON instances (region, family) WHERE state <> 'Deleted';

-- +goose Down
DROP INDEX instances_region_family;
DROP TABLE workspace_quotas;
