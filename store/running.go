package store

import (
	"context"
	"fmt"
	"time"

	"github.com/instancehub/instancehub"
)

var _ instancehub.RunningTimeStore = (*DB)(nil)

// overlap is the milliseconds of an interval (alias r) that fall between
// since (an expression: ?2, or 0 for all of it) and until (?3), an open one
// running until then.
func (db *DB) overlap(since string) string {
	return db.d.least + `(COALESCE(r.stopped_at, ?3), ?3) - ` + db.d.greatest + `(r.started_at, ` + since + `)`
}

// overlaps keeps the intervals of r that meet the window.
const overlaps = `r.started_at < ?3 AND (r.stopped_at IS NULL OR r.stopped_at > ?2)`

// RunningTime sums how long the instance ran until until: in all, and
// since since. One query reads its intervals once for both.
//
// The details page asks it at every view: the instance's intervals are
// kept by the data version, and summed here.
func (db *DB) RunningTime(ctx context.Context, instanceID int64, since, until time.Time) (total, sinceThen time.Duration, err error) {
	version, verr := db.version(ctx)
	if verr != nil {
		return db.runningTime(ctx, instanceID, since, until)
	}
	spans, ok := db.intervals.get(version, instanceID)
	if !ok {
		if spans, err = db.runningIntervals(ctx, instanceID); err != nil {
			return 0, 0, err
		}
		db.intervals.put(version, instanceID, spans)
	}
	all, recent := spans.sum(millis(since), millis(until))
	return time.Duration(all) * time.Millisecond, time.Duration(recent) * time.Millisecond, nil
}

// interval is a span an instance ran, in milliseconds; stop is -1 while it
// runs.
type interval struct{ start, stop int64 }

// intervals are an instance's, kept as read (never changed in place).
type intervals []interval

// sum is what runningTime's query sums: the time run before until, in all
// and since since.
func (spans intervals) sum(since, until int64) (all, recent int64) {
	for _, r := range spans {
		if r.start >= until {
			continue
		}
		end := until
		if r.stop >= 0 {
			end = min(r.stop, until)
		}
		all += end - max(r.start, 0)
		if r.stop < 0 || r.stop > since {
			recent += end - max(r.start, since)
		}
	}
	return all, recent
}

func (db *DB) runningIntervals(ctx context.Context, instanceID int64) (intervals, error) {
	rows, err := db.query(ctx, `SELECT started_at, COALESCE(stopped_at, -1) FROM running_intervals WHERE instance_id = ? ORDER BY started_at`, instanceID)
	if err != nil {
		return nil, fmt.Errorf("running time of instance %d: %w", instanceID, err)
	}
	defer rows.Close()
	var spans intervals
	for rows.Next() {
		var r interval
		if err := rows.Scan(&r.start, &r.stop); err != nil {
			return nil, fmt.Errorf("running time of instance %d: %w", instanceID, err)
		}
		spans = append(spans, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("running time of instance %d: %w", instanceID, err)
	}
	return spans, nil
}

// runningTime is RunningTime asked of the database.
func (db *DB) runningTime(ctx context.Context, instanceID int64, since, until time.Time) (total, sinceThen time.Duration, err error) {
	var all, recent int64
	err = db.queryRow(ctx, `SELECT CAST(COALESCE(SUM(`+db.overlap("0")+`), 0) AS BIGINT),
		CAST(COALESCE(SUM(CASE WHEN r.stopped_at IS NULL OR r.stopped_at > ?2 THEN `+db.overlap("?2")+` ELSE 0 END), 0) AS BIGINT)
		FROM running_intervals r WHERE r.instance_id = ?1 AND r.started_at < ?3`,
		instanceID, millis(since), millis(until)).Scan(&all, &recent)
	if err != nil {
		return 0, 0, fmt.Errorf("running time of instance %d: %w", instanceID, err)
	}
	return time.Duration(all) * time.Millisecond, time.Duration(recent) * time.Millisecond, nil
}

// RunningTimeBySize sums, per VM size, how long the instances of region,
// deleted ones included, ran between since and until. The quota page asks
// it at every view, and the sum reads every interval of the month in the
// region: so it is kept by the data version as sums that give it at any
// later until (runningSums), and read again only when something changed.
func (db *DB) RunningTimeBySize(ctx context.Context, region string, since, until time.Time) ([]instancehub.SizeRunningTime, error) {
	key := runningKey{region, millis(since)}
	version, err := db.version(ctx)
	if err != nil {
		return db.runningTimeBySize(ctx, region, since, until)
	}
	sums, ok := db.running.get(version, key)
	if !ok {
		if sums, err = db.runningSums(ctx, region, key.since); err != nil {
			return nil, err
		}
		db.running.put(version, key, sums)
	}
	if millis(until) <= sums.latest {
		// An interval starts or stops at or after until (a clock set
		// back): only the query says what falls before it.
		return db.runningTimeBySize(ctx, region, since, until)
	}
	return sums.at(millis(until)), nil
}

type runningKey struct {
	region string
	since  int64
}

// runningSums are a region's running intervals that meet [since, ∞), summed
// per size so that the time run until any moment after the latest start
// or stop among them is closed + open×until − openFrom.
type runningSums struct {
	sizes  []sizeSums
	latest int64 // the latest start or stop, in milliseconds
}

type sizeSums struct {
	vmSize, family string
	closed         int64 // the closed intervals' milliseconds after since
	open           int64 // how many are open
	openFrom       int64 // the sum of the open ones' starts (since, if earlier)
}

// at is the running time per size until until, later than s.latest.
func (s *runningSums) at(until int64) []instancehub.SizeRunningTime {
	out := make([]instancehub.SizeRunningTime, len(s.sizes))
	for i, z := range s.sizes {
		ms := z.closed + z.open*until - z.openFrom
		out[i] = instancehub.SizeRunningTime{VMSize: z.vmSize, Family: z.family, Running: time.Duration(ms) * time.Millisecond}
	}
	return out
}

func (db *DB) runningSums(ctx context.Context, region string, since int64) (*runningSums, error) {
	start := db.d.greatest + `(r.started_at, ?2)`
	rows, err := db.query(ctx, `SELECT i.vm_size, i.family,
		CAST(COALESCE(SUM(CASE WHEN r.stopped_at IS NOT NULL THEN r.stopped_at - `+start+` ELSE 0 END), 0) AS BIGINT),
		CAST(SUM(CASE WHEN r.stopped_at IS NULL THEN 1 ELSE 0 END) AS BIGINT),
		CAST(COALESCE(SUM(CASE WHEN r.stopped_at IS NULL THEN `+start+` ELSE 0 END), 0) AS BIGINT),
		CAST(MAX(`+db.d.greatest+`(r.started_at, COALESCE(r.stopped_at, 0))) AS BIGINT)
		FROM running_intervals r JOIN instances i ON i.id = r.instance_id
		WHERE i.region = ?1 AND (r.stopped_at IS NULL OR r.stopped_at > ?2)
		GROUP BY i.vm_size, i.family ORDER BY i.vm_size`,
		region, since)
	if err != nil {
		return nil, fmt.Errorf("running time in %s: %w", region, err)
	}
	defer rows.Close()
	sums := &runningSums{}
	for rows.Next() {
		var z sizeSums
		var latest int64
		if err := rows.Scan(&z.vmSize, &z.family, &z.closed, &z.open, &z.openFrom, &latest); err != nil {
			return nil, fmt.Errorf("running time in %s: %w", region, err)
		}
		sums.sizes, sums.latest = append(sums.sizes, z), max(sums.latest, latest)
	}
	return sums, rows.Err()
}

func (db *DB) runningTimeBySize(ctx context.Context, region string, since, until time.Time) ([]instancehub.SizeRunningTime, error) {
	rows, err := db.query(ctx, `SELECT i.vm_size, i.family, CAST(SUM(`+db.overlap("?2")+`) AS BIGINT)
		FROM running_intervals r JOIN instances i ON i.id = r.instance_id
		WHERE i.region = ?1 AND `+overlaps+`
		GROUP BY i.vm_size, i.family ORDER BY i.vm_size`,
		region, millis(since), millis(until))
	if err != nil {
		return nil, fmt.Errorf("running time in %s: %w", region, err)
	}
	defer rows.Close()
	var out []instancehub.SizeRunningTime
	for rows.Next() {
		var r instancehub.SizeRunningTime
		var ms int64
		if err := rows.Scan(&r.VMSize, &r.Family, &ms); err != nil {
			return nil, fmt.Errorf("running time in %s: %w", region, err)
		}
		r.Running = time.Duration(ms) * time.Millisecond
		out = append(out, r)
	}
	return out, rows.Err()
}
