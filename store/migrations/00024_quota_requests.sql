-- Quota requests (issue 27): a person asks the workspace's Owners for more
-- of a family's vCPUs in a region; an Owner grants it, raising the limit,
-- or declines it with a reason, once. told_at is when the requester was
-- told the answer (NULL until then).

-- +goose Up
CREATE TABLE quota_requests (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    region        TEXT    NOT NULL,
    family        TEXT    NOT NULL,  -- a quota family, or 'cores' for the total
    vcpus         INTEGER NOT NULL CHECK (vcpus > 0),
    reason        TEXT    NOT NULL,
    at            INTEGER NOT NULL,
    status        TEXT    NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'granted', 'declined')),
    decided_by_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    decided_at    INTEGER,
    answer        TEXT    NOT NULL DEFAULT '',
    told_at       INTEGER
);
-- One open request per person, family and region.
CREATE UNIQUE INDEX quota_requests_open ON quota_requests (user_id, region, family) WHERE status = 'open';
-- The answers a person has not been told yet, read on every visit.
CREATE INDEX quota_requests_untold ON quota_requests (user_id) WHERE status <> 'open' AND told_at IS NULL;

-- +goose Down
DROP TABLE quota_requests;
