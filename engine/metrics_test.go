package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/engine"
	"github.com/instancehub/instancehub/internal/promtest"
	"github.com/instancehub/instancehub/internal/testportal"
	"github.com/instancehub/instancehub/metrics"
)

// TestLeasesTakenOverAndLost: a replica that dies has its operation taken
// over by another, counted there; the replica whose operation another
// claimed counts it lost once, however many ways it learns of it (its
// renewal, its next write refused).
func TestLeasesTakenOverAndLost(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0.2) // the VM step ≈ 1.6 s
	p.Engine.Stop()
	const lease = 600 * time.Millisecond
	replica := func(name string) (*engine.Engine, *metrics.Metrics) {
		m := metrics.New(metrics.Options{Replica: name})
		e := &engine.Engine{Instances: p.DB, Cloud: p.Cloud, Logger: p.Engine.Logger,
			PollInterval: 5 * time.Millisecond, Replica: name, LeaseFor: lease, Metrics: m}
		if err := e.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		return e, m
	}
	a, ma := replica("a")
	b, mb := replica("b")
	defer b.Stop()
	p.Service.Engine = a
	if _, err := p.Service.CreateInstance(p.Ctx, testportal.Request("failover")); err != nil {
		t.Fatal(err)
	}
	p.WaitStep(t, "failover", "virtual machine")
	if got := promtest.Scrape(t, ma.Handler()).Sum("instancehub_leases_held", map[string]string{"lease": "operation"}); got != 1 {
		t.Errorf("a drives the create: leases held %v, want 1", got)
	}
	a.Crash()
	p.WaitState(t, "failover", instancehub.StateRunning)
	fb := promtest.Await(t, func() promtest.Figures { return promtest.Scrape(t, mb.Handler()) },
		"instancehub_operations_in_flight", nil, 0)
	if got := fb.Sum("instancehub_leases_taken_over_total", nil); got != 1 {
		t.Errorf("b took over %v operations, want 1", got)
	}
	if got := fb.Sum("instancehub_operations_finished_total", map[string]string{"status": "Succeeded"}); got != 1 {
		t.Errorf("b finished %v operations, want the create", got)
	}

	// b drives a stop that another replica claims behind its back. Once b
	// drives it no more, nothing can count it again.
	p.Service.Engine = b
	if _, err := p.Service.Act(p.Ctx, "failover", instancehub.OpStop); err != nil {
		t.Fatal(err)
	}
	if ids, err := p.DB.ClaimLapsedOperations(p.Ctx, "c", time.Hour, true); err != nil || len(ids) != 1 {
		t.Fatalf("c claimed %v, %v; want the stop", ids, err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		f := promtest.Scrape(t, mb.Handler())
		if f.Sum("instancehub_leases_lost_total", nil) == 1 && f.Sum("instancehub_operations_in_flight", nil) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("b lost %v, drives %v; want the stop lost once, nothing driven",
				f.Sum("instancehub_leases_lost_total", nil), f.Sum("instancehub_operations_in_flight", nil))
		}
	}
}
