package emulator_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v8"

	"github.com/instancehub/instancehub/azure/emulator"
)

// TestQuotaRefusal: a VM that would exceed its family's or the region's
// quota is refused with Azure's message, which a caller can show.
func TestQuotaRefusal(t *testing.T) {
	k := newKit(t, emulator.Options{Quota: map[string]map[string]int{"westeurope": {"cores": 20}}})
	k.workstation("gpu1", "eastus", "Standard_NC12s_v3")
	k.workstation("gpu2", "eastus", "Standard_NC6s_v3")
	k.workstation("cpu1", "westeurope", "Standard_D16s_v3")
	tests := []struct {
		name, region, size string
		message            string
	}{
		{"family", "eastus", "Standard_NC12s_v3",
			"Operation could not be completed as it results in exceeding approved standardNCSv3Family Cores quota. Additional details - Deployment Model: Resource Manager, Location: eastus, Current Limit: 24, Current Usage: 18, Additional Required: 12, (Minimum) New Limit Required: 30. Submit a request for Quota increase at https://aka.ms/ProdportalCRP/"},
		{"total", "westeurope", "Standard_D8s_v3",
			"Operation could not be completed as it results in exceeding approved Total Regional Cores quota. Additional details - Deployment Model: Resource Manager, Location: westeurope, Current Limit: 20, Current Usage: 16, Additional Required: 8, (Minimum) New Limit Required: 24."},
		{"zero quota", "eastus", "Standard_NC24ads_A100_v4",
			"exceeding approved standardNCADSA100v4Family Cores quota. Additional details - Deployment Model: Resource Manager, Location: eastus, Current Limit: 0, Current Usage: 0, Additional Required: 24"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nicID := k.bareNIC(tt.name, tt.region, "default")
			_, err := k.vms.BeginCreateOrUpdate(ctx, k.rg, tt.name, vmParams(tt.name, tt.region, tt.size, nicID), nil)
			wantFailure(t, err, http.StatusConflict, "OperationNotAllowed", tt.message)
			if _, err := k.vms.Get(ctx, k.rg, tt.name, nil); err == nil {
				t.Error("a refused VM should not exist")
			}
		})
	}
}

// TestUsageCountsEveryVM: cores stay used while a VM is deallocated or
// failed, as Azure counts them, and are freed only by deletion.
func TestUsageCountsEveryVM(t *testing.T) {
	k := newKit(t, emulator.Options{})
	family := "standardNCASv3_T4Family"
	steps := []struct {
		name   string
		do     func()
		family int
		total  int
	}{
		{"empty", func() {}, 0, 0},
		{"create", func() { k.workstation("t4", "southeastasia", "Standard_NC8as_T4_v3") }, 8, 8},
		{"deallocate", func() { try(await(k.vms.BeginDeallocate(ctx, k.rg, "t4", nil))).must(t) }, 8, 8},
		{"failed create counts; start of a full family needs no quota", func() {
			k.e.InjectFault(emulator.Fault{API: "VirtualMachinesClient.BeginCreateOrUpdate", Code: "AllocationFailed", Async: true})
			nicID := k.bareNIC("cpu-nic", "southeastasia", "default")
			_, err := await(k.vms.BeginCreateOrUpdate(ctx, k.rg, "cpu", vmParams("cpu", "southeastasia", "Standard_D2s_v3", nicID), nil))
			wantFailure(t, err, http.StatusOK, "AllocationFailed", "")
			try(await(k.vms.BeginStart(ctx, k.rg, "t4", nil))).must(t)
		}, 8, 10},
		{"delete", func() {
			try(await(k.vms.BeginDelete(ctx, k.rg, "t4", nil))).must(t)
			try(await(k.vms.BeginDelete(ctx, k.rg, "cpu", nil))).must(t)
		}, 0, 0},
	}
	for _, s := range steps {
		s.do()
		if got := k.usageOf("southeastasia", family); got != s.family {
			t.Errorf("after %s: %s usage %d, want %d", s.name, family, got, s.family)
		}
		if got := k.usageOf("southeastasia", "cores"); got != s.total {
			t.Errorf("after %s: total usage %d, want %d", s.name, got, s.total)
		}
	}
}

// TestUsageList: one line per family with limits, and the regional total.
func TestUsageList(t *testing.T) {
	k := newKit(t, emulator.Options{Quota: map[string]map[string]int{"eastus": {"standardNCSv3Family": 48}}})
	page := try(k.usage.NewListPager("eastus", nil).NextPage(ctx)).must(t)
	limits := map[string]int64{}
	labels := map[string]string{}
	for _, u := range page.Value {
		limits[*u.Name.Value] = *u.Limit
		labels[*u.Name.Value] = *u.Name.LocalizedValue
		if *u.Unit != "Count" {
			t.Errorf("%s unit %s", *u.Name.Value, *u.Unit)
		}
	}
	want := map[string]int64{"cores": 100, "standardNCSv3Family": 48, "standardDSv2Family": 40, "standardNCADSA100v4Family": 0}
	for name, limit := range want {
		if limits[name] != limit {
			t.Errorf("limit of %s: %d, want %d", name, limits[name], limit)
		}
	}
	if labels["cores"] != "Total Regional vCPUs" || labels["standardDSv2Family"] != "Standard DSv2 Family vCPUs" {
		t.Errorf("labels: %v", labels)
	}
}

// TestCatalog: sizes and SKUs per region, with real numbers; not every GPU
// size everywhere.
func TestCatalog(t *testing.T) {
	k := newKit(t, emulator.Options{})
	sizesIn := func(region string) map[string]*armcompute.VirtualMachineSize {
		out := map[string]*armcompute.VirtualMachineSize{}
		pager := k.sizes.NewListPager(region, nil)
		for pager.More() {
			for _, s := range try(pager.NextPage(ctx)).must(t).Value {
				out[*s.Name] = s
			}
		}
		return out
	}
	east, west := sizesIn("eastus"), sizesIn("westeurope")
	for _, s := range emulator.DefaultCatalog().Sizes {
		if offered := slices.Contains(s.Regions, "eastus"); offered != (east[s.Name] != nil) {
			t.Errorf("%s: catalog says offered in eastus %v, the list disagrees", s.Name, offered)
		}
	}
	if nc := east["Standard_NC6s_v3"]; nc == nil || *nc.NumberOfCores != 6 || *nc.MemoryInMB != 112*1024 {
		t.Errorf("NC6s_v3 in eastus: %+v", nc)
	}
	if west["Standard_NC24s_v3"] != nil || east["Standard_NC24s_v3"] == nil {
		t.Error("NC24s_v3 should be offered in eastus only of the two")
	}
	skus := try(k.skus.NewListPager(&armcompute.ResourceSKUsClientListOptions{Filter: to.Ptr("location eq 'eastus'")}).NextPage(ctx)).must(t)
	i := slices.IndexFunc(skus.Value, func(s *armcompute.ResourceSKU) bool { return *s.Name == "Standard_NC64as_T4_v3" })
	if i < 0 {
		t.Fatal("no NC64as_T4_v3 SKU in eastus")
	}
	sku := skus.Value[i]
	caps := map[string]string{}
	for _, c := range sku.Capabilities {
		caps[*c.Name] = *c.Value
	}
	if *sku.Family != "standardNCASv3_T4Family" || caps["vCPUs"] != "64" || caps["MemoryGB"] != "440" || caps["GPUs"] != "4" ||
		*sku.Locations[0] != "eastus" || *sku.ResourceType != "virtualMachines" {
		t.Errorf("SKU %s family %s caps %v", *sku.Name, *sku.Family, caps)
	}
	for _, s := range skus.Value {
		if *s.Locations[0] != "eastus" {
			t.Fatalf("filter ignored: %s in %s", *s.Name, *s.Locations[0])
		}
	}
	versions := try(k.images.List(ctx, "eastus", "microsoft-dsvm", "ubuntu-2204", "2204-gen2", nil)).must(t)
	if n := len(versions.VirtualMachineImageResourceArray); n == 0 {
		t.Error("no DSVM image versions")
	}
}
