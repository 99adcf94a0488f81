package store

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/instancehub/instancehub"
)

// heldStates are the states that hold workspace quota, for SQL.
var heldStates = func() []any {
	states := make([]any, len(instancehub.WorkspaceQuotaStates))
	for i, s := range instancehub.WorkspaceQuotaStates {
		states[i] = string(s)
	}
	return states
}()

// checkWorkspaceQuota refuses the change tx just made to an instance (created,
// or started) if the instances holding quota in its region now exceed a
// workspace limit, by family or in total. The transaction holds SQLite's
// write lock from its start, so no other create or start can slip in
// between: concurrent requests can never together exceed a limit.
func checkWorkspaceQuota(ctx context.Context, tx *Tx, instanceID int64) error {
	var region, family string
	var vcpus int
	err := tx.QueryRowContext(ctx, `SELECT region, family, vcpus FROM instances WHERE id = ?`, instanceID).
		Scan(&region, &family, &vcpus)
	if err != nil {
		return fmt.Errorf("quota of instance %d: %w", instanceID, err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT family, vcpu_limit FROM workspace_quotas WHERE region = ? AND family IN (?, ?)`,
		region, family, instancehub.TotalRegionalVCPUs)
	if err != nil {
		return err
	}
	limits := map[string]int{}
	for rows.Next() {
		var name string
		var limit int
		if err := rows.Scan(&name, &limit); err != nil {
			rows.Close()
			return err
		}
		limits[name] = limit
	}
	rows.Close()
	for _, name := range []string{family, instancehub.TotalRegionalVCPUs} {
		limit, ok := limits[name]
		if !ok {
			continue
		}
		used, err := heldVCPUs(ctx, tx, region, name)
		if err != nil {
			return err
		}
		if used > limit {
			return instancehub.QuotaError(instancehub.LevelWorkspace, region, name, vcpus, used-vcpus, limit)
		}
	}
	return nil
}

// heldVCPUs is the vCPUs held in region by a family, or by all for the
// total, as the triggers of quota_held keep them (migration 00028).
func heldVCPUs(ctx context.Context, tx *Tx, region, name string) (int, error) {
	query := `SELECT CAST(COALESCE(SUM(vcpus), 0) AS BIGINT) FROM quota_held WHERE region = ?`
	args := []any{region}
	if name != instancehub.TotalRegionalVCPUs {
		query += ` AND family = ?`
		args = append(args, name)
	}
	var used int
	err := tx.QueryRowContext(ctx, query, args...).Scan(&used)
	return used, err
}

// WorkspaceQuota returns a region's workspace limits and the live instances
// that hold quota in it, with what they hold by family and in total.
func (db *DB) WorkspaceQuota(ctx context.Context, region string) (*instancehub.WorkspaceQuota, error) {
	// Read from memory while nothing was committed: the quota page lists
	// every instance holding quota in the region, thousands at scale.
	return db.quotas.read(ctx, db, region, copyQuota, func() (*instancehub.WorkspaceQuota, error) {
		return db.workspaceQuota(ctx, region)
	})
}

// copyQuota returns a copy whose maps and list a caller may change; the
// holders themselves are shared, read-only (QuotaStore says so): copying
// thousands of instances on every view of the quota page cost more than
// reading them.
func copyQuota(q *instancehub.WorkspaceQuota) *instancehub.WorkspaceQuota {
	c := *q
	c.Limits, c.Used = maps.Clone(q.Limits), maps.Clone(q.Used)
	c.Holders = slices.Clone(q.Holders)
	c.ByFamily = maps.Clone(q.ByFamily) // each list shared, clipped
	return &c
}

func (db *DB) workspaceQuota(ctx context.Context, region string) (*instancehub.WorkspaceQuota, error) {
	q := &instancehub.WorkspaceQuota{Limits: map[string]int{}, Used: map[string]int{}}
	if err := db.readLimits(ctx, region, q); err != nil {
		return nil, err
	}
	rows, err := db.query(ctx, instanceSelect+` WHERE i.region = ? AND i.state IN (`+placeholders(len(heldStates))+`)
		ORDER BY `+instanceOrders[instancehub.SortNameAsc], append([]any{region}, heldStates...)...)
	if err != nil {
		return nil, fmt.Errorf("workspace quota of %s: %w", region, err)
	}
	if q.Holders, err = scanInstances(rows); err != nil {
		return nil, fmt.Errorf("workspace quota of %s: %w", region, err)
	}
	for _, inst := range q.Holders {
		q.Used[inst.Family] += inst.VCPUs
		q.Used[instancehub.TotalRegionalVCPUs] += inst.VCPUs
	}
	q.GroupHolders()
	return q, nil
}

// SetWorkspaceLimit sets a family's limit in a region (TotalRegionalVCPUs
// for the total), or removes it when limit is negative.
func (db *DB) SetWorkspaceLimit(ctx context.Context, region, family string, limit int) error {
	var err error
	if limit < 0 {
		_, err = db.exec(ctx, `DELETE FROM workspace_quotas WHERE region = ? AND family = ?`, region, family)
	} else {
		_, err = db.exec(ctx, `
			INSERT INTO workspace_quotas (region, family, vcpu_limit, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (region, family) DO UPDATE SET vcpu_limit = excluded.vcpu_limit, updated_at = excluded.updated_at`,
			region, family, limit, millis(db.now()))
	}
	if err != nil {
		return fmt.Errorf("set workspace limit %s/%s: %w", region, family, err)
	}
	return nil
}

var _ instancehub.QuotaStore = (*DB)(nil)

// WorkspaceUsage returns a region's limits and the vCPUs held there by
// family (quota_held, kept by triggers), with only the holders still being
// created (which a create's admission counts apart): its cost does not
// grow with the instances.
func (db *DB) WorkspaceUsage(ctx context.Context, region string) (*instancehub.WorkspaceQuota, error) {
	q := &instancehub.WorkspaceQuota{Limits: map[string]int{}, Used: map[string]int{}}
	if err := db.readLimits(ctx, region, q); err != nil {
		return nil, err
	}
	rows, err := db.query(ctx, `SELECT family, vcpus FROM quota_held WHERE region = ? AND vcpus <> 0`, region)
	if err != nil {
		return nil, fmt.Errorf("workspace usage of %s: %w", region, err)
	}
	for rows.Next() {
		var family string
		var used int
		if err := rows.Scan(&family, &used); err != nil {
			rows.Close()
			return nil, err
		}
		q.Used[family] += used
		q.Used[instancehub.TotalRegionalVCPUs] += used
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	rows, err = db.query(ctx, instanceSelect+` WHERE i.region = ? AND i.state = ? ORDER BY `+instanceOrders[instancehub.SortNameAsc],
		region, instancehub.StateCreating)
	if err != nil {
		return nil, fmt.Errorf("workspace usage of %s: %w", region, err)
	}
	if q.Holders, err = scanInstances(rows); err != nil {
		return nil, fmt.Errorf("workspace usage of %s: %w", region, err)
	}
	return q, nil
}

// readLimits reads a region's workspace limits into q.
func (db *DB) readLimits(ctx context.Context, region string, q *instancehub.WorkspaceQuota) error {
	rows, err := db.query(ctx, `SELECT family, vcpu_limit FROM workspace_quotas WHERE region = ?`, region)
	if err != nil {
		return fmt.Errorf("workspace quota of %s: %w", region, err)
	}
	defer rows.Close()
	for rows.Next() {
		var family string
		var limit int
		if err := rows.Scan(&family, &limit); err != nil {
			return err
		}
		q.Limits[family] = limit
	}
	return rows.Err()
}
