package instancehub_test

import (
	"fmt"
	"testing"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/azure/emulator"
	"github.com/instancehub/instancehub/internal/testportal"
)

// BenchmarkRefresh1000 measures one full refresh of 1,000 instances against
// the emulator (no simulated latency): a paged listing of the group's VMs plus the
// comparison with SQLite, each time a new one (SyncNow: a Refresh within
// SyncFresh of the last would share its report). It reports the ARM calls
// one refresh makes.
func BenchmarkRefresh1000(b *testing.B) {
	plenty := map[string]int{emulator.TotalCores: 100000, "standardDSv2Family": 100000}
	quota := map[string]map[string]int{"eastus": plenty, "westeurope": plenty, "southeastasia": plenty}
	p := testportal.OpenWith(b, b.TempDir(), emulator.Options{Quota: quota})
	p.Seed(b, "load", 1000, p.User)
	p.MakeVMs(b)
	b.ResetTimer()
	before := p.Emu.Calls()
	for b.Loop() {
		report, err := p.Engine.SyncNow(p.Ctx)
		if err != nil {
			b.Fatal(err)
		}
		if report.Checked != 1000 || report.Changed != 0 {
			b.Fatalf("report = %+v", report)
		}
	}
	b.ReportMetric(float64(p.Emu.Calls()-before)/float64(b.N), "ARM-calls/refresh")
}

// BenchmarkListPage1000 measures the service's part of the list page: one
// page of 50 out of 1,000 instances, newest first.
func BenchmarkListPage1000(b *testing.B) {
	p := testportal.OpenWith(b, b.TempDir(), emulator.Options{})
	p.Seed(b, "load", 1000, p.User)
	for b.Loop() {
		page, err := p.Service.ListInstances(p.Ctx, instancehub.ListQuery{Page: 7})
		if err != nil || len(page.Instances) != 50 || page.Total != 1000 {
			b.Fatalf("page = %d of %d, %v", len(page.Instances), page.Total, err)
		}
	}
}

// BenchmarkQuotaService measures the quota page's data for one region from
// the emulator: Azure's usage and the workspace's count.
func BenchmarkQuotaService(b *testing.B) {
	p := testportal.OpenWith(b, b.TempDir(), emulator.Options{})
	p.Seed(b, "load", 200, p.User)
	for b.Loop() {
		page, err := p.Service.Quota(p.Ctx, "eastus")
		if err != nil || len(page.Rows) == 0 {
			b.Fatal(err)
		}
	}
}

// BenchmarkCreateAt1000 measures the service's part of a create (the form's
// request: checks, admission, the record; the cloud's work follows in the
// background) with 1,000 instances already there, to see that it does not
// grow with them.
func BenchmarkCreateAt1000(b *testing.B) {
	plenty := map[string]int{emulator.TotalCores: 1000000, "standardDSv2Family": 1000000}
	quota := map[string]map[string]int{"eastus": plenty, "westeurope": plenty, "southeastasia": plenty}
	p := testportal.OpenWith(b, b.TempDir(), emulator.Options{Quota: quota})
	p.Seed(b, "load", 1000, p.User)
	p.MakeVMs(b)
	i := 0
	for b.Loop() {
		i++
		req := testportal.Request(fmt.Sprintf("new%05d", i))
		req.VMSize = "Standard_DS1_v2"
		if _, err := p.Service.CreateInstance(p.Ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}
