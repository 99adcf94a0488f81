package emulator_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v8"

	"github.com/instancehub/instancehub/azure/emulator"
)

// TestListAllStatusOnly pages through 250 VMs' power states, 100 a page,
// with two listings interleaved as two UI refreshes might be.
func TestListAllStatusOnly(t *testing.T) {
	k := newKit(t, emulator.Options{Quota: map[string]map[string]int{"eastus": {"cores": 1000, "standardDSv2Family": 1000}}})
	const n = 250
	for i := range n {
		name := fmt.Sprintf("vm%03d", i)
		nicID := k.bareNIC(name, "eastus", []string{"default", "workstations"}[i%2])
		try(await(k.vms.BeginCreateOrUpdate(ctx, k.rg, name, vmParams(name, "eastus", "Standard_DS1_v2", nicID), nil))).must(t)
	}
	try(await(k.vms.BeginDeallocate(ctx, k.rg, "vm007", nil))).must(t)

	before := k.e.CallsTo("VirtualMachinesClient.NewListAllPager")
	opts := &armcompute.VirtualMachinesClientListAllOptions{StatusOnly: to.Ptr("true")}
	pagers := []*runtime.Pager[armcompute.VirtualMachinesClientListAllResponse]{k.vms.NewListAllPager(opts), k.vms.NewListAllPager(opts)}
	seen := []map[string]string{{}, {}}
	for round := 0; pagers[0].More() || pagers[1].More(); round++ {
		if round == 10 {
			t.Fatal("listings do not end: pagers share pages")
		}
		for i, p := range pagers {
			if !p.More() {
				continue
			}
			page := try(p.NextPage(ctx)).must(t)
			if len(page.Value) != 100 && len(page.Value) != 50 {
				t.Errorf("page of %d VMs", len(page.Value))
			}
			for _, vm := range page.Value {
				if vm.Properties.StorageProfile != nil || vm.Properties.InstanceView == nil {
					t.Fatalf("statusOnly should return statuses only: %s", *vm.Name)
				}
				seen[i][*vm.Name] = statesOf(vm.Properties.InstanceView.Statuses)
			}
		}
	}
	for i, s := range seen {
		if len(s) != n || s["vm007"] != "succeeded/deallocated" || s["vm249"] != "succeeded/running" {
			t.Errorf("listing %d saw %d VMs, vm007 %s, vm249 %s", i, len(s), s["vm007"], s["vm249"])
		}
	}
	if got := k.e.CallsTo("VirtualMachinesClient.NewListAllPager") - before; got != 6 {
		t.Errorf("%d page calls for two listings of %d VMs, want 6", got, n)
	}
}

// TestStatusListPagesAsTheyCome: each page of the status list is read when
// asked for, after the last VM of the page before, as ARM's skip tokens
// do: a VM deleted between pages is not listed, and none is listed twice.
func TestStatusListPagesAsTheyCome(t *testing.T) {
	k := newKit(t, emulator.Options{PageSize: 2})
	for _, name := range []string{"a", "b", "c", "d"} {
		nicID := k.bareNIC(name+"-nic", "eastus", "default")
		try(await(k.vms.BeginCreateOrUpdate(ctx, k.rg, name, vmParams(name, "eastus", "Standard_DS1_v2", nicID), nil))).must(t)
	}
	pager := k.vms.NewListAllPager(&armcompute.VirtualMachinesClientListAllOptions{StatusOnly: to.Ptr("true")})
	var names []string
	for pager.More() {
		page := try(pager.NextPage(ctx)).must(t)
		for _, vm := range page.Value {
			names = append(names, *vm.Name)
		}
		if len(names) == 2 {
			try(await(k.vms.BeginDelete(ctx, k.rg, "c", nil))).must(t)
		}
	}
	if got := strings.Join(names, " "); got != "a b d" {
		t.Errorf("listed %s, want a b d", got)
	}
}

// TestConcurrentUse creates, polls, lists and operates on VMs from many
// goroutines at once (run with -race).
func TestConcurrentUse(t *testing.T) {
	k := newKit(t, emulator.Options{Path: t.TempDir() + "/cloud.db", Latency: 0.005})
	subnet := map[string]string{}
	for _, region := range k.e.Regions() {
		subnet[region] = k.subnetID(region, "default")
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 16 {
		wg.Go(func() {
			name := fmt.Sprintf("ws%d", i)
			region := k.e.Regions()[i%3]
			nic, err := await(k.nics.BeginCreateOrUpdate(ctx, k.rg, name, nicParams(region, subnet[region], "", ""), nil))
			if err == nil {
				_, err = await(k.vms.BeginCreateOrUpdate(ctx, k.rg, name, vmParams(name, region, "Standard_DS1_v2", *nic.ID), nil))
			}
			if err == nil {
				_, err = await(k.vms.BeginDeallocate(ctx, k.rg, name, nil))
			}
			if err == nil {
				pager := k.vms.NewListAllPager(&armcompute.VirtualMachinesClientListAllOptions{StatusOnly: to.Ptr("true")})
				for pager.More() && err == nil {
					_, err = pager.NextPage(ctx)
				}
			}
			if err == nil {
				_, err = await(k.vms.BeginDelete(ctx, k.rg, name, nil))
			}
			if err != nil {
				errs <- fmt.Errorf("%s: %w", name, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if vms := try(k.vms.NewListAllPager(nil).NextPage(ctx)).must(t); len(vms.Value) != 0 {
		t.Errorf("%d VMs left", len(vms.Value))
	}
}

// TestGroupListAsGet: the resource group's list with instance views, which
// the portal's Refresh and adoption read page by page, gives each VM as a GET
// with $expand=instanceView does, a system-assigned identity's principal
// included, 100 a page.
func TestGroupListAsGet(t *testing.T) {
	k := newKit(t, emulator.Options{Quota: map[string]map[string]int{"eastus": {"cores": 1000, "standardDSv2Family": 1000}}})
	const n = 150
	for i := range n {
		name := fmt.Sprintf("vm%03d", i)
		vm := vmParams(name, "eastus", "Standard_DS1_v2", k.bareNIC(name, "eastus", "default"))
		if i%2 == 0 {
			vm.Identity = &armcompute.VirtualMachineIdentity{Type: to.Ptr(armcompute.ResourceIdentityTypeSystemAssigned)}
		}
		try(await(k.vms.BeginCreateOrUpdate(ctx, k.rg, name, vm, nil))).must(t)
	}
	try(await(k.vms.BeginDeallocate(ctx, k.rg, "vm007", nil))).must(t)

	pager := k.vms.NewListPager(k.rg, &armcompute.VirtualMachinesClientListOptions{Expand: to.Ptr(armcompute.ExpandTypeForListVMsInstanceView)})
	listed, pages := 0, 0
	for pager.More() {
		page := try(pager.NextPage(ctx)).must(t)
		pages++
		for _, vm := range page.Value {
			listed++
			got := try(k.vms.Get(ctx, k.rg, *vm.Name, &armcompute.VirtualMachinesClientGetOptions{Expand: to.Ptr(armcompute.InstanceViewTypesInstanceView)})).must(t)
			a, _ := vm.MarshalJSON()
			b, _ := got.VirtualMachine.MarshalJSON()
			if string(a) != string(b) {
				t.Fatalf("%s listed as\n%s\nbut read as\n%s", *vm.Name, a, b)
			}
		}
	}
	if listed != n || pages != 2 {
		t.Errorf("%d VMs in %d pages, want %d in 2", listed, pages, n)
	}
	if got := k.states("vm007"); !strings.Contains(got, "deallocated") {
		t.Errorf("vm007: %s", got)
	}
}

// TestGroupListPageBuffers: a page of the group's VMs keeps its bytes
// until its answer is closed, whatever pages are asked meanwhile, and after
// its Close reads nothing; its buffer goes back to be written again once
// however often it is closed.
func TestGroupListPageBuffers(t *testing.T) {
	k := newKit(t, emulator.Options{PageSize: 3})
	for i := range 7 {
		name := fmt.Sprintf("vm%02d", i)
		try(await(k.vms.BeginCreateOrUpdate(ctx, k.rg, name, vmParams(name, "eastus", "Standard_DS1_v2", k.bareNIC(name, "eastus", "default")), nil))).must(t)
	}
	door := k.e.ClientOptions().Transport
	list := context.WithValue(ctx, runtime.CtxAPINameKey{}, "VirtualMachinesClient.NewListPager")
	page := func(skip string) *http.Response {
		t.Helper()
		q := url.Values{"$expand": {"instanceView"}, "api-version": {"2026-04-01"}}
		if skip != "" {
			q.Set("$skiptoken", skip)
		}
		req, _ := http.NewRequestWithContext(list, http.MethodGet, "https://management.azure.com/subscriptions/"+k.e.SubscriptionID()+
			"/resourceGroups/"+k.rg+"/providers/Microsoft.Compute/virtualMachines?"+q.Encode(), nil)
		resp, err := door.Do(req)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("list after %q: %v %v", skip, resp, err)
		}
		return resp
	}
	names := func(resp *http.Response) string {
		t.Helper()
		var p struct{ Value []struct{ Name string } }
		if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, vm := range p.Value {
			out = append(out, vm.Name)
		}
		return strings.Join(out, " ")
	}
	first := page("")
	second := page("virtualMachines/vm02") // asked for before the first is read (a skip token is a key)
	if got := names(first); got != "vm00 vm01 vm02" {
		t.Errorf("first page, read after the second was asked for: %s", got)
	}
	first.Body.Close()
	first.Body.Close() // closed twice, its buffer goes back once
	if n, _ := first.Body.Read(make([]byte, 8)); n != 0 {
		t.Errorf("a closed page read %d bytes", n)
	}
	third, fourth := page("virtualMachines/vm05"), page("")
	for resp, want := range map[*http.Response]string{second: "vm03 vm04 vm05", third: "vm06", fourth: "vm00 vm01 vm02"} {
		if got := names(resp); got != want {
			t.Errorf("listed %s, want %s", got, want)
		}
		resp.Body.Close()
	}
}

// TestGroupListPagesConcurrently: listings of the group's VMs at once, from
// many goroutines, each get every VM once, in order, whole: a page's buffer
// goes back to be written again only once its answer is read and closed.
func TestGroupListPagesConcurrently(t *testing.T) {
	k := newKit(t, emulator.Options{PageSize: 3})
	var want []string
	for i := range 11 {
		name := fmt.Sprintf("vm%02d", i)
		try(await(k.vms.BeginCreateOrUpdate(ctx, k.rg, name, vmParams(name, "eastus", "Standard_DS1_v2", k.bareNIC(name, "eastus", "default")), nil))).must(t)
		want = append(want, name)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 8 {
		wg.Go(func() {
			for range 5 {
				pager := k.vms.NewListPager(k.rg, &armcompute.VirtualMachinesClientListOptions{Expand: to.Ptr(armcompute.ExpandTypeForListVMsInstanceView)})
				var names []string
				for pager.More() {
					page, err := pager.NextPage(ctx)
					if err != nil {
						errs <- err
						return
					}
					for _, vm := range page.Value {
						if vm.Properties == nil || vm.Properties.OSProfile == nil || *vm.Properties.OSProfile.ComputerName != *vm.Name {
							errs <- fmt.Errorf("%s listed with another VM's properties", *vm.Name)
							return
						}
						names = append(names, *vm.Name)
					}
				}
				if got := strings.Join(names, " "); got != strings.Join(want, " ") {
					errs <- fmt.Errorf("listed %s", got)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
