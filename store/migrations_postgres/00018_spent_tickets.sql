-- The applications' spent tickets, as SQLite's 00018: see there. Not
-- watched by data_version: no page shows them.

-- +goose Up
CREATE TABLE spent_tickets (
    id         TEXT   PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
CREATE INDEX spent_tickets_expires_at ON spent_tickets (expires_at);

-- +goose Down
DROP TABLE spent_tickets;
