-- Failures older than the window are pruned at every attempt.

-- +goose Up
CREATE INDEX login_failures_at ON login_failures (at);

-- +goose Down
DROP INDEX login_failures_at;
