-- The applications' sign-in tickets redeemed, kept until they expire, so
-- that none is redeemed twice, whichever portal sharing the database each
-- attempt reaches (a ticket lives 30 seconds).

-- +goose Up
CREATE TABLE spent_tickets (
    id         TEXT    PRIMARY KEY,
    expires_at INTEGER NOT NULL
);
CREATE INDEX spent_tickets_expires_at ON spent_tickets (expires_at);

-- +goose Down
DROP TABLE spent_tickets;
