package instancehub

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Quota levels: Azure's, per subscription, and the workspace's own, set by
// Owners, never above Azure's.
const (
	LevelWorkspace    = "workspace"
	LevelSubscription = "subscription"
)

// HoldsWorkspaceQuota reports whether an instance in state s counts against
// the workspace's limits. Unlike Azure, which counts every VM that exists,
// the workspace counts only instances that are not stopped: stopping frees
// cores for teammates, and starting needs them again. A failed create or a
// VM gone from Azure holds nothing, and an instance frees its cores as soon
// as its delete begins (a stopped one must not take them back meanwhile).
func (s State) HoldsWorkspaceQuota() bool {
	switch s {
	case StateStopped, StateCreateFailed, StateMissing, StateDeleting, StateDeleted:
		return false
	}
	return true
}

// WorkspaceQuotaStates lists the states that hold workspace quota.
var WorkspaceQuotaStates = func() []State {
	var held []State
	for _, s := range []State{StateCreating, StateCreateFailed, StateRunning, StateStopping, StateStopped, StateStarting,
		StateRestarting, StateDeleting, StateUnusable, StateUnknown, StateMissing, StateDeleted} {
		if s.HoldsWorkspaceQuota() {
			held = append(held, s)
		}
	}
	return held
}()

// QuotaError is the one-sentence refusal of a create or start that would
// exceed a limit: the family, the vCPUs requested, those in use, the limit,
// and whose limit it is.
func QuotaError(level, region, family string, requested, inUse, limit int) *Error {
	return &Error{Code: EQUOTA, Message: QuotaMessage(level, region, family, requested, inUse, limit)}
}

// QuotaMessage is the sentence of QuotaError.
func QuotaMessage(level, region, family string, requested, inUse, limit int) string {
	name := FamilyLabel(family)
	if family == TotalRegionalVCPUs {
		name = "Total regional vCPUs"
	}
	return fmt.Sprintf("%s: %d vCPUs requested, but %d of the %s's limit of %d are in use in %s.",
		name, requested, inUse, level, limit, region)
}

// WorkspaceQuota is a region's workspace limits and what holds them.
type WorkspaceQuota struct {
	// Limits by family, and TotalRegionalVCPUs for the region's total; a
	// family without a limit is bounded by the subscription only.
	Limits map[string]int
	// Used counts the vCPUs held, by family and in total.
	Used map[string]int
	// Holders are the instances holding quota.
	Holders []*Instance
}

// misfit is why a size does not fit the workspace's limits, or "".
func (q *WorkspaceQuota) misfit(region string, size VMSize) string {
	if q == nil {
		return ""
	}
	for _, name := range []string{size.Family, TotalRegionalVCPUs} {
		limit, ok := q.Limits[name]
		if ok && q.Used[name]+size.VCPUs > limit {
			return QuotaMessage(LevelWorkspace, region, name, size.VCPUs, q.Used[name], limit)
		}
	}
	return ""
}

// QuotaRow is one line of the quota page: a family, or the total.
type QuotaRow struct {
	Name              string // a family, or TotalRegionalVCPUs
	Label             string
	WorkspaceUsed     int
	WorkspaceLimit    int // -1 when the workspace sets none
	SubscriptionUsed  int
	SubscriptionLimit int
	Holders           []*Instance
}

// QuotaPage is a region's quota at both levels.
type QuotaPage struct {
	Regions []Region
	Region  string
	Rows    []QuotaRow
	Total   QuotaRow
	CanEdit bool
	// Cost estimates what the region's instances cost this month; nil
	// without prices.
	Cost *MonthCost
}

// Quota returns the quota page of region (the default region when empty).
func (s *Service) Quota(ctx context.Context, region string) (*QuotaPage, error) {
	user, err := authorize(ctx, PermReadQuota, "see the quota")
	if err != nil {
		s.recordDenial(ctx, "quota.read", region, err)
		return nil, err
	}
	regions, err := s.Cloud.Regions(ctx)
	if err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(regions, func(r Region) bool { return r.Name == region }) {
		region = regions[0].Name
	}
	usage, err := s.Cloud.Usage(ctx, region)
	if err != nil {
		return nil, err
	}
	ws, err := s.Quotas.WorkspaceQuota(ctx, region)
	if err != nil {
		return nil, err
	}
	page := &QuotaPage{Regions: regions, Region: region, CanEdit: user.Can(PermWriteQuota)}
	byFamily := map[string][]*Instance{}
	for _, inst := range ws.Holders {
		byFamily[inst.Family] = append(byFamily[inst.Family], inst)
	}
	for _, u := range usage {
		row := quotaRow(u, ws, byFamily[u.Name])
		if u.Name == TotalRegionalVCPUs {
			row.Label, row.Holders = "Total regional vCPUs", ws.Holders
			page.Total = row
			continue
		}
		page.Rows = append(page.Rows, row)
	}
	slices.SortFunc(page.Rows, func(a, b QuotaRow) int { return strings.Compare(a.Label, b.Label) })
	if page.Cost, err = s.monthCost(ctx, region); err != nil {
		return nil, err
	}
	return page, nil
}

func quotaRow(u Usage, ws *WorkspaceQuota, holders []*Instance) QuotaRow {
	row := QuotaRow{
		Name: u.Name, Label: FamilyLabel(u.Name), WorkspaceUsed: ws.Used[u.Name], WorkspaceLimit: -1,
		SubscriptionUsed: u.Current, SubscriptionLimit: u.Limit, Holders: holders,
	}
	if limit, ok := ws.Limits[u.Name]; ok {
		row.WorkspaceLimit = limit
	}
	return row
}

// MaxWorkspaceLimit bounds a workspace limit: far above any subscription's
// quota, and far from the overflow of an int.
const MaxWorkspaceLimit = 1_000_000

var limitMessage = fmt.Sprintf("Enter a whole number of vCPUs from 0 to %d, or leave it empty for no limit.", MaxWorkspaceLimit)

// ParseWorkspaceLimit reads the quota form's limit: empty (spaces aside)
// for no limit, which it returns as -1, else a whole number of vCPUs, digits
// only, from 0 to MaxWorkspaceLimit. An EINVALID error on the field "limit"
// otherwise.
func ParseWorkspaceLimit(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return -1, nil
	}
	if len(s) > len(strconv.Itoa(MaxWorkspaceLimit)) || strings.ContainsFunc(s, func(r rune) bool { return !isDigit(r) }) {
		return 0, FieldError("limit", limitMessage)
	}
	n, err := strconv.Atoi(s)
	if err != nil || n > MaxWorkspaceLimit {
		return 0, FieldError("limit", limitMessage)
	}
	return n, nil
}

// SetWorkspaceLimit sets a family's workspace limit in a region, never above
// the subscription's; a negative limit removes it.
func (s *Service) SetWorkspaceLimit(ctx context.Context, region, family string, limit int) (err error) {
	target := fmt.Sprintf("%s/%s", region, family)
	defer func() {
		if err == nil && limit >= 0 {
			target = fmt.Sprintf("%s = %d vCPUs", target, limit)
		} else if err == nil {
			target += " = no limit"
		}
		s.record(ctx, "quota.update", target, err)
	}()
	if _, err := authorize(ctx, PermWriteQuota, "change the workspace's quota"); err != nil {
		return err
	}
	if err := s.validateRegion(ctx, region); err != nil {
		return err
	}
	if err := tooLong("limit", "A quota family's name", family, MaxResourceNameLength); err != nil {
		return err
	}
	if limit > MaxWorkspaceLimit {
		return FieldError("limit", limitMessage)
	}
	usage, err := s.Cloud.Usage(ctx, region)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(usage, func(u Usage) bool { return u.Name == family })
	switch {
	case i < 0:
		return FieldError("limit", fmt.Sprintf("There is no quota family %q in %s.", family, region))
	case limit > usage[i].Limit:
		return FieldError("limit", fmt.Sprintf("The workspace's limit cannot exceed the subscription's: at most %d vCPUs for %s in %s.",
			usage[i].Limit, usage[i].Label, region))
	}
	return s.Quotas.SetWorkspaceLimit(ctx, region, family, limit)
}

// QuotaUse returns, by region, the quota rows that tell an operator
// something: the region's total, and each family in use at either level or
// limited by the workspace (Azure lists about a hundred families per region,
// most unused). It is for the operator's metrics, which nobody signs in
// to read: it authorizes no one, and no route may call it.
func (s *Service) QuotaUse(ctx context.Context) (map[string][]QuotaRow, error) {
	regions, err := s.Cloud.Regions(ctx)
	if err != nil {
		return nil, err
	}
	use := make(map[string][]QuotaRow, len(regions))
	for _, region := range regions {
		usage, err := s.Cloud.Usage(ctx, region.Name)
		if err != nil {
			return nil, fmt.Errorf("quota of %s: %w", region.Name, err)
		}
		ws, err := s.Quotas.WorkspaceUsage(ctx, region.Name)
		if err != nil {
			return nil, fmt.Errorf("quota of %s: %w", region.Name, err)
		}
		for _, u := range usage {
			row := quotaRow(u, ws, nil)
			if u.Name == TotalRegionalVCPUs || row.SubscriptionUsed > 0 || row.WorkspaceUsed > 0 || row.WorkspaceLimit >= 0 {
				use[region.Name] = append(use[region.Name], row)
			}
		}
	}
	return use, nil
}
