package backup

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/azure/emulator"
	"github.com/instancehub/instancehub/internal/testportal"
)

// BenchmarkBackup10000 measures a backup and a restore of a data directory
// of 10,000 instances: their records with their create operations and
// 100,000 audit events (instancehub.db), and their VMs made in the
// emulator's cloud, each with its security group, network interface,
// shared network and extension (emulator.db). The portal stays open, as a
// serving portal's connections are. It reports the databases' and the
// backup's sizes.
func BenchmarkBackup10000(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	probe, err := emulator.Open(emulator.Options{})
	if err != nil {
		b.Fatal(err)
	}
	regions := probe.Regions()
	probe.Close()
	quota := map[string]map[string]int{}
	for _, r := range regions {
		quota[r] = map[string]int{emulator.TotalCores: 1_000_000, "standardDSv2Family": 1_000_000}
	}
	p := testportal.OpenWith(b, dir, emulator.Options{Path: filepath.Join(dir, Emulator), Quota: quota})
	start := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	for i := range 10_000 {
		region := regions[i%len(regions)]
		inst := &instancehub.Instance{
			Name: fmt.Sprintf("load%05d", i), Region: region, VMSize: "Standard_DS3_v2",
			Family: "standardDSv2Family", VCPUs: 4, MemoryGiB: 14, SSHPort: 22,
			VirtualNetwork: "instancehub-" + region, Subnet: "workstations",
			OwnerID: p.User.ID, CreatedByID: p.User.ID, CreatedAt: start.Add(time.Duration(i) * time.Minute),
			AppSecret: fmt.Sprintf("secret-of-load%05d-0123456789abcdefghijklmnopqrstuv", i),
		}
		op := &instancehub.Operation{Kind: instancehub.OpCreate, Trigger: instancehub.TriggerUser, UserID: p.User.ID, StartedAt: inst.CreatedAt}
		if err := p.DB.CreateInstance(ctx, inst, op); err != nil {
			b.Fatal(err)
		}
		op.Status, op.FinishedAt = instancehub.StatusSucceeded, inst.CreatedAt.Add(5*time.Minute)
		if err := p.DB.FinishOperation(ctx, op, instancehub.InstanceUpdate{State: instancehub.StateRunning}); err != nil {
			b.Fatal(err)
		}
		for j := range 10 {
			e := &instancehub.AuditEvent{At: inst.CreatedAt.Add(time.Duration(j) * time.Second), UserID: p.User.ID,
				UserName: p.User.Name, UserEmail: p.User.Email, Action: "instance.start", Target: inst.Name,
				Result: instancehub.AuditSucceeded, SourceIP: "10.0.0.1"}
			if err := p.DB.RecordAudit(ctx, e); err != nil {
				b.Fatal(err)
			}
		}
	}
	p.MakeVMs(b)
	for _, name := range []string{Database, Emulator} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("%s: %.1f MB", name, float64(fi.Size())/1e6)
	}
	out := filepath.Join(b.TempDir(), "backup.tar.gz")
	b.Run("backup", func(b *testing.B) {
		for b.Loop() {
			if err := os.Remove(out); err != nil && !os.IsNotExist(err) {
				b.Fatal(err)
			}
			if _, err := Take(ctx, dir, out, start); err != nil {
				b.Fatal(err)
			}
		}
		fi, err := os.Stat(out)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(fi.Size())/1e6, "MB-backup")
	})
	b.Run("restore", func(b *testing.B) {
		for b.Loop() {
			if _, err := Restore(ctx, out, b.TempDir(), nil, start); err != nil {
				b.Fatal(err)
			}
		}
	})
}
