package engine_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

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

// BenchmarkRefreshScale measures one full refresh at 10,000 and 100,000
// instances, the scale: the instances are seeded straight into the
// store and their VMs copied straight into the emulator (a VM made through
// the portal's own Azure steps, copied), since making them through the
// portal would take far longer than what is measured. Each refresh lists
// the group's VMs through the SDK's clients and compares them with SQLite,
// as a Refresh does; nothing changes. Run with -bench RefreshScale -benchtime 3x.
func BenchmarkRefreshScale(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			plenty := map[string]int{emulator.TotalCores: 1 << 30, "standardDSv2Family": 1 << 30}
			quota := map[string]map[string]int{"eastus": plenty, "westeurope": plenty, "southeastasia": plenty}
			dir := b.TempDir()
			p := testportal.OpenWith(b, dir, emulator.Options{Path: filepath.Join(dir, "emulator.db"), Quota: quota})
			start := time.Now()
			p.Seed(b, "load", n, p.User)
			seeded := time.Since(start)
			names := make([]string, 0, n-1)
			for i := 2; i <= n; i++ {
				names = append(names, fmt.Sprintf("load%04d", i))
			}
			first, err := p.DB.FindInstanceByName(p.Ctx, "load0001")
			if err != nil {
				b.Fatal(err)
			}
			for _, step := range p.Cloud.Steps(instancehub.OpCreate, first) {
				token, err := p.Cloud.BeginStep(p.Ctx, instancehub.OpCreate, step, first)
				for err == nil && token != "" {
					var done bool
					if done, err = p.Cloud.PollStep(p.Ctx, instancehub.OpCreate, step, first, token); done {
						break
					}
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			if err := p.Emu.CopyVMs("load0001", names); err != nil {
				b.Fatal(err)
			}
			b.Logf("seeded %d instances in %s, their VMs in %s", n, seeded.Round(time.Millisecond), (time.Since(start) - seeded).Round(time.Millisecond))
			before := p.Emu.Calls()
			for b.Loop() {
				report, err := p.Engine.SyncNow(p.Ctx)
				if err != nil {
					b.Fatal(err)
				}
				if report.Checked != n || report.Changed != 0 {
					b.Fatalf("report = %+v", report)
				}
			}
			b.ReportMetric(float64(p.Emu.Calls()-before)/float64(b.N), "ARM-calls/refresh")
		})
	}
}
