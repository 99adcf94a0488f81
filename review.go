package instancehub

import "strings"

// CreateReview is a create as it will be made, shown before it is made (the
// studio's "Review + Create"): the instance checked in full, with its owner,
// its schedules, its price and the quota it takes.
type CreateReview struct {
	Instance  *Instance
	Schedules []*Schedule
	// Price is the size's price per hour in the region; unknown without a
	// price list.
	Price Price
	// Quota is each limit the instance counts against, with its use now.
	Quota []QuotaTake
	// ForSomeoneElse is set when the instance is made for another user.
	ForSomeoneElse bool
}

// QuotaTake is the share of one limit a new instance takes: the
// subscription's for its family and for the region's total, and the
// workspace's where an Owner set one.
type QuotaTake struct {
	Level string // LevelSubscription or LevelWorkspace
	// Name is a family ("standardDSv2Family") or TotalRegionalVCPUs.
	Name        string
	Used, Limit int
	// VCPUs is what the instance takes; UsedAfter the use once it is made.
	VCPUs, UsedAfter int
}

// Label is the limit's name as people read it.
func (q QuotaTake) Label() string {
	if q.Name == TotalRegionalVCPUs {
		return "Total regional vCPUs"
	}
	return FamilyLabel(q.Name) + " vCPUs"
}

// QuotaTaken is what an instance of size takes of each limit it counts
// against, given the region's usage (creates admitted included) and the
// workspace's (ws may be nil).
func QuotaTaken(size VMSize, usage []Usage, ws *WorkspaceQuota) []QuotaTake {
	var out []QuotaTake
	for _, name := range []string{size.Family, TotalRegionalVCPUs} {
		for _, u := range usage {
			if strings.EqualFold(u.Name, name) {
				out = append(out, QuotaTake{Level: LevelSubscription, Name: name, Used: u.Current, Limit: u.Limit,
					VCPUs: size.VCPUs, UsedAfter: u.Current + size.VCPUs})
			}
		}
	}
	if ws == nil {
		return out
	}
	for _, name := range []string{size.Family, TotalRegionalVCPUs} {
		if limit, ok := ws.Limits[name]; ok {
			out = append(out, QuotaTake{Level: LevelWorkspace, Name: name, Used: ws.Used[name], Limit: limit,
				VCPUs: size.VCPUs, UsedAfter: ws.Used[name] + size.VCPUs})
		}
	}
	return out
}
