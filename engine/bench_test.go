package engine_test

import (
	"testing"

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
