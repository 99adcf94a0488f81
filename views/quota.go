package views

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/instancehub/instancehub"
)

func quotaURL(region, view string) string {
	return "/quota?" + url.Values{"region": {region}, "view": {view}}.Encode()
}

func ariaCurrent(current bool) string {
	if current {
		return "page"
	}
	return "false"
}

// workspaceCap is what a workspace row's bar is measured against: its own
// limit, or the subscription's where it sets none.
func workspaceCap(row instancehub.QuotaRow) int {
	if row.WorkspaceLimit >= 0 {
		return row.WorkspaceLimit
	}
	return row.SubscriptionLimit
}

func percent(used, limit int) int {
	if limit <= 0 {
		if used > 0 {
			return 100
		}
		return 0
	}
	return min(100, used*100/limit)
}

// fill is "ok", "warn" from 80 %, or "full" at 100 %.
func fill(used, limit int) string {
	switch {
	case limit <= 0 || used >= limit:
		return "full"
	case used*100 >= 80*limit:
		return "warn"
	}
	return "ok"
}

func usageLabel(used, limit int) string {
	if limit <= 0 {
		return fmt.Sprintf("%d in use, no quota", used)
	}
	return fmt.Sprintf("%d of %d (%d%%)", used, limit, percent(used, limit))
}

func limitValue(row instancehub.QuotaRow, form QuotaForm) string {
	if form.Family == row.Name {
		return form.Limit
	}
	if row.WorkspaceLimit < 0 {
		return ""
	}
	return fmt.Sprint(row.WorkspaceLimit)
}

func createURL(region string) string {
	return "/instances/new?" + url.Values{"region": {region}}.Encode()
}

func requestQuotaURL(region string, short instancehub.QuotaShortfall) string {
	return "/quota/requests/new?" + url.Values{"region": {region}, "family": {short.Family}, "vcpus": {fmt.Sprint(short.VCPUs)}}.Encode()
}

func requestURL(id int64, verb string) string {
	return fmt.Sprintf("/quota/requests/%d/%s", id, verb)
}

// chosenShort is the size chosen on the form when the quota cannot fit
// it, for the link beside the size's field error.
func chosenShort(opts *instancehub.CreateOptions, form CreateForm) instancehub.SizeOption {
	for _, s := range opts.Sizes {
		if !s.Fits && form.Request.VMSize != "" && strings.EqualFold(s.Name, form.Request.VMSize) {
			return s
		}
	}
	return instancehub.SizeOption{}
}
