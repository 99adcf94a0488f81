-- Leases and shared keys, as SQLite's 00017: see there. Neither table is
-- watched by data_version: a lease renewed every few seconds is nothing a
-- page shows.

-- +goose Up
ALTER TABLE operations ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';
ALTER TABLE operations ADD COLUMN lease_until BIGINT NOT NULL DEFAULT 0;

CREATE TABLE leases (
    name  TEXT   PRIMARY KEY,
    owner TEXT   NOT NULL,
    until BIGINT NOT NULL
);

CREATE TABLE portal_keys (
    name       TEXT   PRIMARY KEY,
    key        BYTEA  NOT NULL,
    created_at BIGINT NOT NULL
);

-- +goose Down
DROP TABLE portal_keys;
DROP TABLE leases;
ALTER TABLE operations DROP COLUMN lease_until;
ALTER TABLE operations DROP COLUMN lease_owner;
