package service

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/instancehub/instancehub"
)

// Quota returns the quota page of region (the default region when empty).
func (s *Service) Quota(ctx context.Context, region string) (*instancehub.QuotaPage, error) {
	user, err := authorize(ctx, instancehub.PermReadQuota, "see the quota")
	if err != nil {
		s.recordDenial(ctx, "quota.read", region, err)
		return nil, err
	}
	regions, err := s.Cloud.Regions(ctx)
	if err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(regions, func(r instancehub.Region) bool { return r.Name == region }) {
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
	page := &instancehub.QuotaPage{Regions: regions, Region: region, CanEdit: user.Can(instancehub.PermWriteQuota)}
	for _, u := range usage {
		row := quotaRow(u, ws, ws.ByFamily[u.Name])
		if u.Name == instancehub.TotalRegionalVCPUs {
			row.Label, row.Holders = "Total regional vCPUs", ws.Holders
			page.Total = row
			continue
		}
		page.Rows = append(page.Rows, row)
	}
	slices.SortFunc(page.Rows, func(a, b instancehub.QuotaRow) int { return strings.Compare(a.Label, b.Label) })
	if page.Cost, err = s.monthCost(ctx, region); err != nil {
		return nil, err
	}
	if page.CanEdit {
		if page.Requests, err = s.QuotaRequests.OpenQuotaRequests(ctx); err != nil {
			return nil, err
		}
	}
	return page, nil
}

func quotaRow(u instancehub.Usage, ws *instancehub.WorkspaceQuota, holders []*instancehub.Instance) instancehub.QuotaRow {
	row := instancehub.QuotaRow{
		Name: u.Name, Label: instancehub.FamilyLabel(u.Name), WorkspaceUsed: ws.Used[u.Name], WorkspaceLimit: -1,
		SubscriptionUsed: u.Current, SubscriptionLimit: u.Limit, Holders: holders,
	}
	if limit, ok := ws.Limits[u.Name]; ok {
		row.WorkspaceLimit = limit
	}
	return row
}

// SetWorkspaceLimit sets a family's workspace limit in a region, never above
// the subscription's; a negative limit removes it. A limit below what the
// workspace's instances hold is set only when belowUse says the Owner saw
// that: else ECONFLICT, whose limit field names the use and its holders.
func (s *Service) SetWorkspaceLimit(ctx context.Context, region, family string, limit int, belowUse bool) (err error) {
	target := fmt.Sprintf("%s/%s", region, family)
	defer func() {
		if err == nil && limit >= 0 {
			target = fmt.Sprintf("%s = %s", target, instancehub.Plural(limit, "vCPU"))
		} else if err == nil {
			target += " = no limit"
		}
		s.record(ctx, "quota.update", target, err)
	}()
	if _, err := authorize(ctx, instancehub.PermWriteQuota, "change the workspace's quota"); err != nil {
		return err
	}
	if err := s.checkLimit(ctx, region, family, limit); err != nil {
		return err
	}
	if limit >= 0 && !belowUse {
		ws, err := s.Quotas.WorkspaceQuota(ctx, region)
		if err != nil {
			return err
		}
		if used := ws.Used[family]; limit < used {
			return instancehub.LimitBelowUse(region, family, limit, used, holders(ws, family))
		}
	}
	return s.Quotas.SetWorkspaceLimit(ctx, region, family, limit)
}

// checkLimit applies the rules of a workspace limit, whoever sets it (an
// Owner's form, a granted request): a region offered, a family Azure has
// there, and never above the subscription's limit. EINVALID on "limit".
func (s *Service) checkLimit(ctx context.Context, region, family string, limit int) error {
	if err := s.validateRegion(ctx, region); err != nil {
		return err
	}
	if err := instancehub.TooLong("limit", "A quota family's name", family, instancehub.MaxResourceNameLength); err != nil {
		return err
	}
	if err := instancehub.CheckWorkspaceLimit(limit); err != nil {
		return err
	}
	u, err := s.usage(ctx, region, family)
	if err != nil {
		return err
	}
	if limit > u.Limit {
		return instancehub.FieldError("limit", fmt.Sprintf("The workspace's limit cannot exceed the subscription's: at most %s for %s in %s.",
			instancehub.Plural(u.Limit, "vCPU"), u.Label, region))
	}
	return nil
}

// usage is Azure's usage of a family in a region; EINVALID on "limit" when
// Azure has no such family there.
func (s *Service) usage(ctx context.Context, region, family string) (instancehub.Usage, error) {
	usage, err := s.Cloud.Usage(ctx, region)
	if err != nil {
		return instancehub.Usage{}, err
	}
	i := slices.IndexFunc(usage, func(u instancehub.Usage) bool { return u.Name == family })
	if i < 0 {
		return instancehub.Usage{}, instancehub.FieldError("limit", fmt.Sprintf("There is no quota family %q in %s.", family, region))
	}
	return usage[i], nil
}

// QuotaUse returns, by region, the quota rows that tell an operator
// something: the region's total, and each family in use at either level or
// limited by the workspace (Azure lists about a hundred families per region,
// most unused). It is for the operator's metrics, which nobody signs in
// to read: it authorizes no one, and no route may call it.
func (s *Service) QuotaUse(ctx context.Context) (map[string][]instancehub.QuotaRow, error) {
	regions, err := s.Cloud.Regions(ctx)
	if err != nil {
		return nil, err
	}
	use := make(map[string][]instancehub.QuotaRow, len(regions))
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
			if u.Name == instancehub.TotalRegionalVCPUs || row.SubscriptionUsed > 0 || row.WorkspaceUsed > 0 || row.WorkspaceLimit >= 0 {
				use[region.Name] = append(use[region.Name], row)
			}
		}
	}
	return use, nil
}

// holders names the instances that hold a family's quota (all of them for
// the region's total).
func holders(ws *instancehub.WorkspaceQuota, family string) []string {
	var names []string
	for _, inst := range ws.Holders {
		if family == instancehub.TotalRegionalVCPUs || inst.Family == family {
			names = append(names, inst.Name)
		}
	}
	return names
}
