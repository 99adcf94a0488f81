package emulator

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	azfake "github.com/Azure/azure-sdk-for-go/sdk/azcore/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v8"
)

// checkQuota refuses a VM whose cores would exceed its family's limit or the
// region's total, with the message Azure gives.
func (c *cloud) checkQuota(p *vmPut, limits map[string]int) error {
	used, _ := c.usage(p.location, key(typeVM, p.name))
	need, fam := p.size.VCPUs, p.size.Family
	if used[fam]+need > limits[fam] {
		return quotaExceeded(c.SubscriptionID, p.location, fam, fam+" Cores", limits[fam], used[fam], need)
	}
	if used[TotalCores]+need > limits[TotalCores] {
		return quotaExceeded(c.SubscriptionID, p.location, TotalCores, "Total Regional Cores", limits[TotalCores], used[TotalCores], need)
	}
	return nil
}

func quotaExceeded(subscription, region, resourceName, quotaName string, limit, current, need int) *armError {
	request := fmt.Sprintf(`{"subscriptionId":"%s","command":"openQuotaApprovalBlade","quotas":[{"location":"%s","providerId":"Microsoft.Compute","resourceName":"%s","quotaRequest":{"properties":{"limit":%d,"unit":"Count","name":{"value":"%s"}}}}]}`,
		subscription, region, resourceName, current+need, resourceName)
	request = strings.NewReplacer("{", "%7B", "}", "%7D", `"`, "%22").Replace(request)
	more := "https://docs.microsoft.com/en-us/azure/azure-supportability/per-vm-quota-requests"
	if resourceName == TotalCores {
		more = "https://docs.microsoft.com/en-us/azure/azure-supportability/regional-quota-requests"
	}
	return armErr(http.StatusConflict, "OperationNotAllowed",
		"Operation could not be completed as it results in exceeding approved %s quota. Additional details - Deployment Model: Resource Manager, Location: %s, Current Limit: %d, Current Usage: %d, Additional Required: %d, (Minimum) New Limit Required: %d. Submit a request for Quota increase at https://aka.ms/ProdportalCRP/#blade/Microsoft_Azure_Capacity/UsageAndQuota.ReactView/Parameters/%s by specifying parameters listed in the ‘Details’ section for deployment to succeed. Please read more about quota limits at %s",
		quotaName, region, limit, current, need, current+need, request, more)
}

// listUsage lists a region's usage as compute does: the regional total, the
// VM count, then every family, each with its limit.
func (e *Emulator) listUsage(location string, _ *armcompute.UsageClientListOptions) azfake.PagerResponder[armcompute.UsageClientListResponse] {
	region := normalizeLocation(&location)
	var items []*armcompute.Usage
	err := e.withCloud(func(c *cloud, _ time.Time) error {
		if _, ok := findRegion(region); !ok {
			return locationNotAvailable(region, "Microsoft.Compute/locations/usages")
		}
		cores, vms := c.usage(region, "")
		limits := e.quota[region]
		items = append(items, usageOf(TotalCores, "Total Regional vCPUs", cores[TotalCores], limits[TotalCores]),
			usageOf("virtualMachines", "Virtual Machines", vms, 25000))
		for _, f := range families() {
			items = append(items, usageOf(f, familyLabels[f], cores[f], limits[f]))
		}
		return nil
	})
	return pager(items, err, len(items)+1, func(v []*armcompute.Usage) armcompute.UsageClientListResponse {
		return armcompute.UsageClientListResponse{ListUsagesResult: armcompute.ListUsagesResult{Value: v}}
	})
}

func usageOf(name, label string, current, limit int) *armcompute.Usage {
	return &armcompute.Usage{
		Name:         &armcompute.UsageName{Value: to.Ptr(name), LocalizedValue: to.Ptr(label)},
		Unit:         to.Ptr("Count"),
		CurrentValue: to.Ptr(int32(current)),
		Limit:        to.Ptr(int64(limit)),
	}
}
