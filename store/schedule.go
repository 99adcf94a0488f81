package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/instancehub/instancehub"
)

var _ instancehub.AutomationStore = (*DB)(nil)

// AddSchedule inserts s and sets its ID and times. ECONFLICT when its
// instance has MaxSchedules already, counted in the transaction; ENOTFOUND
// for an unknown or deleted instance.
func (db *DB) AddSchedule(ctx context.Context, s *instancehub.Schedule) error {
	s.CreatedAt = db.orNow(s.CreatedAt)
	s.UpdatedAt = s.CreatedAt
	err := db.inTx(ctx, func(tx *Tx) error {
		var live, count int
		err := tx.QueryRowContext(ctx, `
			SELECT (SELECT count(*) FROM instances WHERE id = ? AND state <> 'Deleted'),
			       (SELECT count(*) FROM schedules WHERE instance_id = ?)`, s.InstanceID, s.InstanceID).Scan(&live, &count)
		switch {
		case err != nil:
			return err
		case live == 0:
			return instancehub.Errorf(instancehub.ENOTFOUND, "Instance not found.")
		case count >= instancehub.MaxSchedules:
			return instancehub.Errorf(instancehub.ECONFLICT, "An instance has at most %d schedules; edit or delete one first.", instancehub.MaxSchedules)
		}
		hours, minutes, days := scheduleLists(s)
		return tx.QueryRowContext(ctx, `
			INSERT INTO schedules (instance_id, action, kind, cron, hours, minutes, week_days, time_zone, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			s.InstanceID, s.Action, s.Kind, s.Cron, hours, minutes, days, s.TimeZone, millis(s.CreatedAt), millis(s.UpdatedAt)).Scan(&s.ID)
	})
	return wrap(err, "add schedule to instance %d", s.InstanceID)
}

// UpdateSchedule saves s's action, times and zone. ENOTFOUND when its
// instance has no schedule s.ID. The occurrences it fired for stay
// recorded; the scheduler reckons from UpdatedAt, so a changed schedule
// does not fire for an occurrence before its change.
func (db *DB) UpdateSchedule(ctx context.Context, s *instancehub.Schedule) error {
	s.UpdatedAt = db.orNow(s.UpdatedAt)
	hours, minutes, days := scheduleLists(s)
	res, err := db.exec(ctx, `
		UPDATE schedules SET action = ?, kind = ?, cron = ?, hours = ?, minutes = ?, week_days = ?, time_zone = ?, updated_at = ?
		WHERE id = ? AND instance_id = ?`,
		s.Action, s.Kind, s.Cron, hours, minutes, days, s.TimeZone, millis(s.UpdatedAt), s.ID, s.InstanceID)
	return db.oneRow(res, err, "update schedule %d", s.ID)
}

// DeleteSchedule removes a schedule of an instance, with its firings.
// ENOTFOUND when the instance has none with that ID.
func (db *DB) DeleteSchedule(ctx context.Context, instanceID, id int64) error {
	res, err := db.exec(ctx, `DELETE FROM schedules WHERE id = ? AND instance_id = ?`, id, instanceID)
	return db.oneRow(res, err, "delete schedule %d", id)
}

func (db *DB) oneRow(res sql.Result, err error, format string, args ...any) error {
	if err != nil {
		return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), err)
	}
	if n, err := rowsAffected(res); err != nil {
		return err
	} else if n == 0 {
		return instancehub.Errorf(instancehub.ENOTFOUND, "Schedule not found.")
	}
	return nil
}

// FindSchedules lists the schedules of the given instances, or of every
// live instance when none is given, each with the newest occurrence it
// fired for: one query, which a tick of the scheduler reads whole. Those of
// given instances (a list page's running ones, for their next stop, at
// every view) are served from memory while nothing was committed since
// they were read, each caller getting copies of its own.
func (db *DB) FindSchedules(ctx context.Context, instanceIDs ...int64) ([]*instancehub.Schedule, error) {
	if len(instanceIDs) == 0 {
		return db.findSchedules(ctx)
	}
	return db.schedules.read(ctx, db, fmt.Sprint(instanceIDs), copySchedules, func() ([]*instancehub.Schedule, error) {
		return db.findSchedules(ctx, instanceIDs...)
	})
}

// copySchedules returns copies a caller may change.
func copySchedules(kept []*instancehub.Schedule) []*instancehub.Schedule {
	out := make([]*instancehub.Schedule, len(kept))
	for i, s := range kept {
		c := *s
		c.Hours, c.Minutes, c.WeekDays = slices.Clone(s.Hours), slices.Clone(s.Minutes), slices.Clone(s.WeekDays)
		out[i] = &c
	}
	return out
}

func (db *DB) findSchedules(ctx context.Context, instanceIDs ...int64) ([]*instancehub.Schedule, error) {
	where, args := `i.state <> 'Deleted'`, []any{}
	if len(instanceIDs) > 0 {
		where = `s.instance_id IN (` + placeholders(len(instanceIDs)) + `)`
		for _, id := range instanceIDs {
			args = append(args, id)
		}
	}
	rows, err := db.query(ctx, `
		SELECT s.id, s.instance_id, s.action, s.kind, s.cron, s.hours, s.minutes, s.week_days, s.time_zone,
		       s.created_at, s.updated_at,
		       (SELECT max(f.occurrence) FROM schedule_firings f WHERE f.schedule_id = s.id)
		FROM schedules s JOIN instances i ON i.id = s.instance_id
		WHERE `+where+` ORDER BY s.instance_id, s.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("find schedules: %w", err)
	}
	defer rows.Close()
	var out []*instancehub.Schedule
	for rows.Next() {
		var s instancehub.Schedule
		var hours, minutes, days string
		var created, updated, fired sql.NullInt64
		if err := rows.Scan(&s.ID, &s.InstanceID, &s.Action, &s.Kind, &s.Cron, &hours, &minutes, &days, &s.TimeZone,
			&created, &updated, &fired); err != nil {
			return nil, fmt.Errorf("find schedules: %w", err)
		}
		s.Hours, s.Minutes = ints(hours), ints(minutes)
		for _, d := range ints(days) {
			s.WeekDays = append(s.WeekDays, time.Weekday(d))
		}
		s.CreatedAt, s.UpdatedAt, s.LastFired = fromMillis(created), fromMillis(updated), fromMillis(fired)
		out = append(out, &s)
	}
	return out, rows.Err()
}

func scheduleLists(s *instancehub.Schedule) (hours, minutes, days string) {
	d := make([]int, len(s.WeekDays))
	for i, w := range s.WeekDays {
		d[i] = int(w)
	}
	return intList(s.Hours), intList(s.Minutes), intList(d)
}

func intList(v []int) string {
	parts := make([]string, len(v))
	for i, n := range v {
		parts[i] = strconv.Itoa(n)
	}
	return strings.Join(parts, ",")
}

func ints(s string) []int {
	var out []int
	if s == "" {
		return nil
	}
	for part := range strings.SplitSeq(s, ",") {
		if n, err := strconv.Atoi(part); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// ClaimFiring records f as claimed. ECONFLICT when the occurrence is
// recorded already: the primary key decides between portals.
func (db *DB) ClaimFiring(ctx context.Context, f *instancehub.Firing) error {
	f.FiredAt = db.orNow(f.FiredAt)
	f.Result = instancehub.FiringClaimed
	_, err := db.exec(ctx, `
		INSERT INTO schedule_firings (schedule_id, occurrence, fired_at, result) VALUES (?, ?, ?, ?)`,
		f.ScheduleID, millis(f.Occurrence), millis(f.FiredAt), f.Result)
	switch {
	case isDuplicateKey(err):
		return instancehub.Errorf(instancehub.ECONFLICT, "This occurrence of the schedule has fired already.")
	case err != nil:
		return fmt.Errorf("claim firing of schedule %d: %w", f.ScheduleID, err)
	}
	return nil
}

// FinishFiring records a claimed firing's result.
func (db *DB) FinishFiring(ctx context.Context, f *instancehub.Firing) error {
	_, err := db.exec(ctx, `UPDATE schedule_firings SET result = ?, reason = ? WHERE schedule_id = ? AND occurrence = ?`,
		f.Result, f.Reason, f.ScheduleID, millis(f.Occurrence))
	return wrap(err, "finish firing of schedule %d", f.ScheduleID)
}

// SetIdleShutdown saves an instance's idle time and when it changed.
func (db *DB) SetIdleShutdown(ctx context.Context, instanceID int64, idle time.Duration, at time.Time) error {
	res, err := db.exec(ctx, `
		UPDATE instances SET idle_shutdown_minutes = ?, idle_changed_at = ?, keep_running_until = NULL
		WHERE id = ? AND state <> 'Deleted'`, int64(idle/time.Minute), millis(db.orNow(at)), instanceID)
	return instanceRow(res, err, "set idle shutdown of instance %d", instanceID)
}

// KeepRunning holds an instance's automatic stops until until.
func (db *DB) KeepRunning(ctx context.Context, instanceID int64, until time.Time) error {
	res, err := db.exec(ctx, `UPDATE instances SET keep_running_until = ? WHERE id = ? AND state <> 'Deleted'`,
		millis(until), instanceID)
	return instanceRow(res, err, "keep instance %d running", instanceID)
}

func instanceRow(res sql.Result, err error, format string, args ...any) error {
	if err != nil {
		return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), err)
	}
	if n, err := rowsAffected(res); err != nil {
		return err
	} else if n == 0 {
		return instancehub.Errorf(instancehub.ENOTFOUND, "Instance not found.")
	}
	return nil
}

// WorkspaceSettings returns the saved defaults, or the product's.
func (db *DB) WorkspaceSettings(ctx context.Context) (instancehub.WorkspaceSettings, error) {
	w := instancehub.DefaultWorkspaceSettings
	var minutes int64
	err := db.queryRow(ctx, `SELECT idle_shutdown_on, idle_shutdown_minutes FROM workspace_settings WHERE id = 1`).
		Scan(&w.IdleShutdownOn, &minutes)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return w, nil
	case err != nil:
		return w, fmt.Errorf("workspace settings: %w", err)
	}
	w.IdleShutdown = time.Duration(minutes) * time.Minute
	return w, nil
}

// SaveWorkspaceSettings saves the defaults.
func (db *DB) SaveWorkspaceSettings(ctx context.Context, w instancehub.WorkspaceSettings) error {
	_, err := db.exec(ctx, `
		INSERT INTO workspace_settings (id, idle_shutdown_on, idle_shutdown_minutes, updated_at) VALUES (1, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET idle_shutdown_on = excluded.idle_shutdown_on,
			idle_shutdown_minutes = excluded.idle_shutdown_minutes, updated_at = excluded.updated_at`,
		w.IdleShutdownOn, int64(w.IdleShutdown/time.Minute), millis(db.now()))
	return wrap(err, "save workspace settings")
}

// RecordFailedOperation adds an operation that ended before it began.
func (db *DB) RecordFailedOperation(ctx context.Context, op *instancehub.Operation) error {
	op.Status = instancehub.StatusFailed
	op.StartedAt = db.orNow(op.StartedAt)
	op.FinishedAt = db.orNow(op.FinishedAt)
	err := db.inTx(ctx, func(tx *Tx) error { return db.insertOperation(ctx, tx, op) })
	return wrap(err, "record failed %s of instance %d", op.Kind.Verb(), op.InstanceID)
}

// AddUserNotice keeps a message for a user's next visit.
func (db *DB) AddUserNotice(ctx context.Context, userID int64, message string, at time.Time) error {
	_, err := db.exec(ctx, `INSERT INTO user_notices (user_id, message, created_at) VALUES (?, ?, ?)`,
		userID, message, millis(db.orNow(at)))
	return wrap(err, "add notice for user %d", userID)
}

// TakeUserNotices returns and forgets a user's messages. A visit with none
// waiting reads, and writes nothing.
func (db *DB) TakeUserNotices(ctx context.Context, userID int64) ([]string, error) {
	k := untoldKey{what: "notices", userID: userID}
	version, verr := db.version(ctx)
	if _, none := db.untold.get(version, k); verr == nil && none {
		return nil, nil
	}
	var waiting int
	if err := db.queryRow(ctx, `SELECT count(*) FROM user_notices WHERE user_id = ?`, userID).Scan(&waiting); err != nil || waiting == 0 {
		if err == nil && verr == nil {
			db.untold.put(version, k, true)
		}
		return nil, wrap(err, "notices of user %d", userID)
	}
	rows, err := db.query(ctx, `DELETE FROM user_notices WHERE user_id = ? RETURNING id, message`, userID)
	if err != nil {
		return nil, fmt.Errorf("take notices of user %d: %w", userID, err)
	}
	defer rows.Close()
	type notice struct {
		id  int64
		msg string
	}
	var got []notice
	for rows.Next() {
		var n notice
		if err := rows.Scan(&n.id, &n.msg); err != nil {
			return nil, err
		}
		got = append(got, n)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	slices.SortFunc(got, func(a, b notice) int { return cmp.Compare(a.id, b.id) }) // RETURNING keeps no order
	out := make([]string, len(got))
	for i, n := range got {
		out[i] = n.msg
	}
	return out, nil
}
