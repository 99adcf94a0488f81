package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/instancehub/instancehub"
)

// setupText stores an instance's setup scripts as JSON, "" for none.
func setupText(s instancehub.SetupScripts) string {
	if !s.Any() {
		return ""
	}
	return jsonText(s)
}

// RecordSetupRun keeps the last run of an instance's setup script, in
// place of the one before, its log cut to its tail.
func (db *DB) RecordSetupRun(ctx context.Context, id int64, r *instancehub.SetupResult) error {
	log := r.Log
	if len(log) > instancehub.MaxSetupLogLength {
		log = instancehub.Tail(log, instancehub.MaxSetupLogLength)
	}
	_, err := db.exec(ctx, `
		INSERT INTO setup_runs (instance_id, phase, exit_code, timed_out, log, ran_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (instance_id) DO UPDATE SET phase = excluded.phase, exit_code = excluded.exit_code,
			timed_out = excluded.timed_out, log = excluded.log, ran_at = excluded.ran_at`,
		id, r.Phase, r.ExitCode, r.TimedOut, log, millis(r.At))
	return wrap(err, "record the setup run of instance %d", id)
}

// SetupRun returns the last run of an instance's setup script, nil when
// none ran. The details page asks it at every view: it is served from
// memory while nothing was committed since it was read (a query of its
// own, a tenth of a details view's CPU).
func (db *DB) SetupRun(ctx context.Context, id int64) (*instancehub.SetupResult, error) {
	return db.setupRuns.read(ctx, db, id, copySetupRun, func() (*instancehub.SetupResult, error) {
		return db.setupRun(ctx, id)
	})
}

// copySetupRun returns a copy a caller may change (nil for none).
func copySetupRun(r *instancehub.SetupResult) *instancehub.SetupResult {
	if r == nil {
		return nil
	}
	c := *r
	return &c
}

func (db *DB) setupRun(ctx context.Context, id int64) (*instancehub.SetupResult, error) {
	var r instancehub.SetupResult
	var at sql.NullInt64
	err := db.queryRow(ctx, `SELECT phase, exit_code, timed_out, log, ran_at FROM setup_runs WHERE instance_id = ?`, id).
		Scan(&r.Phase, &r.ExitCode, &r.TimedOut, &r.Log, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, wrap(err, "read the setup run of instance %d", id)
	}
	r.At = fromMillis(at)
	return &r, nil
}
