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
func (db *DB) RunningTime(ctx context.Context, instanceID int64, since, until time.Time) (total, sinceThen time.Duration, err error) {
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
// deleted ones included, ran between since and until.
func (db *DB) RunningTimeBySize(ctx context.Context, region string, since, until time.Time) ([]instancehub.SizeRunningTime, error) {
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
