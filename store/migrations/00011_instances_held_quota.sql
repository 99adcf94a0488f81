-- The vCPUs held in a region, summed by family for every create's checks,
-- are read from this index alone (it covers the sum), not from every row
-- of the region's instances.

-- +goose Up
CREATE INDEX instances_region_state_family ON instances (region, state, family, vcpus);

-- +goose Down
DROP INDEX instances_region_state_family;
