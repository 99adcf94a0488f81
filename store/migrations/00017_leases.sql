-- Several portals on one database (PostgreSQL's replicas; on SQLite, the
-- one portal and a restart of it): each operation in progress is driven by
-- the portal holding its lease, renewed while it runs and taken over by
-- another portal once it lapses; named leases give a background job (the
-- sync) to one portal at a time; the portal's keys (sealed cookies,
-- application tickets) are shared, so that any portal opens what another
-- sealed.

-- +goose Up
ALTER TABLE operations ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';
ALTER TABLE operations ADD COLUMN lease_until INTEGER NOT NULL DEFAULT 0;

CREATE TABLE leases (
    name  TEXT    PRIMARY KEY,
    owner TEXT    NOT NULL,
    until INTEGER NOT NULL
);

CREATE TABLE portal_keys (
    name       TEXT    PRIMARY KEY,
    key        BLOB    NOT NULL,
    created_at INTEGER NOT NULL
);

-- +goose Down
DROP TABLE portal_keys;
DROP TABLE leases;
ALTER TABLE operations DROP COLUMN lease_until;
ALTER TABLE operations DROP COLUMN lease_owner;
