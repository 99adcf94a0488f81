package instancehub

import (
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
		StateRestarting, StateDeleting, StateUnusable, StateUnknown, StateMissing, StateDeleted, StateSetupFailed, StateUserSetupFailed} {
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
	return fmt.Sprintf("%s: %s requested, but %d of the %s's limit of %d are in use in %s.",
		name, Plural(requested, "vCPU"), inUse, level, limit, region)
}

// LimitBelowUse refuses, until the Owner confirms it, a workspace limit
// below what the workspace's instances hold: it names the use and who holds
// it, and what such a limit does (ECONFLICT, with the message on "limit").
func LimitBelowUse(region, family string, limit, used int, holders []string) *Error {
	name := FamilyLabel(family)
	if family == TotalRegionalVCPUs {
		name = "the regional total"
	}
	held := ""
	if len(holders) > 0 {
		held = " (" + strings.Join(holders, ", ") + ")"
	}
	msg := fmt.Sprintf("%s of %s %s in use in %s%s, more than a limit of %d. Nothing running is stopped, but no instance of it can be created or started until use falls under the limit. Save anyway to set it.",
		Plural(used, "vCPU"), name, isAre(used), region, held, limit)
	return &Error{Code: ECONFLICT, Message: msg, Fields: map[string]string{"limit": msg}}
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
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
	// ByFamily are Holders by family, each in Holders' order (GroupHolders).
	ByFamily map[string][]*Instance
}

// GroupHolders sets ByFamily from Holders: for a quota kept and read many
// times (the quota page groups them at every view).
func (q *WorkspaceQuota) GroupHolders() {
	q.ByFamily = map[string][]*Instance{}
	for _, inst := range q.Holders {
		q.ByFamily[inst.Family] = append(q.ByFamily[inst.Family], inst)
	}
	for family, holders := range q.ByFamily {
		q.ByFamily[family] = slices.Clip(holders) // a caller's append copies
	}
}

// QuotaShortfall is what a limit lacks for a size: the family (or
// TotalRegionalVCPUs) and how many vCPUs beyond its limit the size needs.
type QuotaShortfall struct {
	Family string
	VCPUs  int
}

// misfit is why a size does not fit the workspace's limits, and by how
// much, or "".
func (q *WorkspaceQuota) misfit(region string, size VMSize) (string, QuotaShortfall) {
	if q == nil {
		return "", QuotaShortfall{}
	}
	for _, name := range []string{size.Family, TotalRegionalVCPUs} {
		limit, ok := q.Limits[name]
		if ok && q.Used[name]+size.VCPUs > limit {
			return QuotaMessage(LevelWorkspace, region, name, size.VCPUs, q.Used[name], limit),
				QuotaShortfall{Family: name, VCPUs: q.Used[name] + size.VCPUs - limit}
		}
	}
	return "", QuotaShortfall{}
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
	// Requests are the open quota requests, of every region, for those
	// who decide them (CanEdit); nil for everyone else.
	Requests []*QuotaRequest
	// Cost estimates what the region's instances cost this month; nil
	// without prices.
	Cost *MonthCost
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

// CheckWorkspaceLimit refuses a limit above MaxWorkspaceLimit, in the words
// of ParseWorkspaceLimit: an EINVALID error on the field "limit".
func CheckWorkspaceLimit(limit int) error {
	if limit > MaxWorkspaceLimit {
		return FieldError("limit", limitMessage)
	}
	return nil
}
