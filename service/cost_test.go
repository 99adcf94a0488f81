package service_test

import (
	"context"
	"errors"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/internal/testportal"
)

// clock is a time tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// TestInstanceCost prices the running time of an instance that ran across
// the start of the month, was stopped, and runs again now.
func TestInstanceCost(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0)
	c := &clock{}
	p.DB.Now, p.Service.Now = c.Now, c.Now
	c.Set(time.Date(2026, 11, 30, 20, 0, 0, 0, time.UTC))
	inst := &instancehub.Instance{
		Name: "month-end", Region: "westeurope", VMSize: "Standard_DS3_v2", Family: "standardDSv2Family",
		VCPUs: 4, MemoryGiB: 14, OwnerID: p.User.ID, CreatedByID: p.User.ID,
	}
	op := &instancehub.Operation{Kind: instancehub.OpCreate, Trigger: instancehub.TriggerUser, UserID: p.User.ID}
	if err := p.DB.CreateInstance(p.Ctx, inst, op); err != nil {
		t.Fatal(err)
	}
	op.Status = instancehub.StatusSucceeded
	if err := p.DB.FinishOperation(p.Ctx, op, instancehub.InstanceUpdate{State: instancehub.StateRunning}); err != nil {
		t.Fatal(err)
	}
	sync := func(state instancehub.State) {
		t.Helper()
		found, err := p.DB.FindInstanceByID(p.Ctx, inst.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.DB.SyncInstance(p.Ctx, inst.ID, found.Version, state); err != nil {
			t.Fatal(err)
		}
	}
	c.Set(time.Date(2026, 12, 1, 4, 0, 0, 0, time.UTC))
	sync(instancehub.StateStopped)
	c.Set(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC))
	sync(instancehub.StateRunning)
	c.Set(time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))

	d, err := p.Service.InstanceDetail(p.Ctx, "month-end")
	if err != nil {
		t.Fatal(err)
	}
	price := 0.293 * 1.08 // West Europe's, in the emulator's list
	cost := d.Cost
	switch {
	case cost == nil:
		t.Fatal("no cost estimate")
	case cost.RunningSoFar != 10*time.Hour || cost.RunningThisMonth != 6*time.Hour:
		t.Errorf("running %v so far and %v this month, want 10h and 6h", cost.RunningSoFar, cost.RunningThisMonth)
	case !near(cost.Price.PerHour, math.Round(price*1000)/1000) || cost.Price.Source != instancehub.SourceEmulator:
		t.Errorf("price %+v, want West Europe's from the emulator", cost.Price)
	case !near(cost.SoFar.Amount, 10*cost.Price.PerHour) || !near(cost.ThisMonth.Amount, 6*cost.Price.PerHour):
		t.Errorf("cost %v so far and %v this month, want 10 and 6 hours at %v", cost.SoFar, cost.ThisMonth, cost.Price.PerHour)
	case !cost.MonthStart.Equal(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)):
		t.Errorf("month from %v", cost.MonthStart)
	}

	quota, err := p.Service.Quota(p.Ctx, "westeurope")
	if err != nil {
		t.Fatal(err)
	}
	if quota.Cost == nil || !near(quota.Cost.ByFamily["standardDSv2Family"].Amount, 6*cost.Price.PerHour) ||
		!near(quota.Cost.Total.Amount, 6*cost.Price.PerHour) {
		t.Errorf("the quota page's month = %+v, want 6 hours of DS3 v2", quota.Cost)
	}
}

// failingPrices is a price list that cannot be read.
type failingPrices struct{}

func (failingPrices) Prices(context.Context, string) (map[string]instancehub.Price, error) {
	return nil, instancehub.Errorf(instancehub.EUNAVAILABLE, "%v", errors.New("prices.azure.com: no route to host"))
}

// TestNoPriceNoCost: without a price list, or with one that cannot be
// read, pages show no price and no cost, and still work.
func TestNoPriceNoCost(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0)
	p.SeedNamed(t, "unpriced", p.User)
	for _, prices := range []instancehub.PriceList{nil, failingPrices{}} {
		p.Service.Prices = prices
		d, err := p.Service.InstanceDetail(p.Ctx, "unpriced")
		if err != nil || d.Cost != nil {
			t.Errorf("%T: details %v, cost %+v; want no cost", prices, err, d.Cost)
		}
		opts, err := p.Service.CreateOptions(p.Ctx, "eastus")
		if err != nil || opts.Sizes[0].Price.Known() {
			t.Errorf("%T: create form %v, first size's price %+v; want none", prices, err, opts.Sizes[0].Price)
		}
		quota, err := p.Service.Quota(p.Ctx, "eastus")
		if err != nil || quota.Cost != nil {
			t.Errorf("%T: quota %v, cost %+v; want none", prices, err, quota.Cost)
		}
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// TestAFailedSetupRunsAndBills: a failed setup script leaves its VM
// running (SetupFailed after the creation script, UserSetupFailed after the
// startup script), which Azure bills as a running one: its running time,
// its cost and the month's count it, and its vCPUs hold the workspace's
// quota, until it is stopped.
func TestAFailedSetupRunsAndBills(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0)
	c := &clock{}
	p.DB.Now, p.Service.Now = c.Now, c.Now
	c.Set(time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC))
	inst := &instancehub.Instance{
		Name: "scripted", Region: "westeurope", VMSize: "Standard_DS3_v2", Family: "standardDSv2Family",
		VCPUs: 4, MemoryGiB: 14, OwnerID: p.User.ID, CreatedByID: p.User.ID,
	}
	op := &instancehub.Operation{Kind: instancehub.OpCreate, Trigger: instancehub.TriggerUser, UserID: p.User.ID}
	if err := p.DB.CreateInstance(p.Ctx, inst, op); err != nil {
		t.Fatal(err)
	}
	c.Set(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	op.Status, op.ErrorMessage = instancehub.StatusFailed, "The creation script failed with exit code 7."
	if err := p.DB.FinishOperation(p.Ctx, op, instancehub.InstanceUpdate{State: instancehub.StateSetupFailed}); err != nil {
		t.Fatal(err)
	}
	sync := func(state instancehub.State) {
		t.Helper()
		found, err := p.DB.FindInstanceByID(p.Ctx, inst.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.DB.SyncInstance(p.Ctx, inst.ID, found.Version, state); err != nil {
			t.Fatal(err)
		}
	}
	// SetupFailed from 9:00 to 12:00, stopped, then UserSetupFailed from
	// 14:00 to now, 15:00: 4 hours.
	c.Set(time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	sync(instancehub.StateStopped)
	c.Set(time.Date(2026, 12, 1, 14, 0, 0, 0, time.UTC))
	sync(instancehub.StateUserSetupFailed)
	c.Set(time.Date(2026, 12, 1, 15, 0, 0, 0, time.UTC))

	d, err := p.Service.InstanceDetail(p.Ctx, "scripted")
	if err != nil {
		t.Fatal(err)
	}
	if d.Cost == nil || d.Cost.RunningSoFar != 4*time.Hour || d.Cost.RunningThisMonth != 4*time.Hour ||
		!near(d.Cost.SoFar.Amount, 4*d.Cost.Price.PerHour) {
		t.Fatalf("cost %+v, want 4 hours running", d.Cost)
	}
	quota, err := p.Service.Quota(p.Ctx, "westeurope")
	if err != nil {
		t.Fatal(err)
	}
	if quota.Cost == nil || !near(quota.Cost.Total.Amount, 4*d.Cost.Price.PerHour) {
		t.Errorf("the quota page's month = %+v, want 4 hours of DS3 v2", quota.Cost)
	}
	if quota.Total.WorkspaceUsed != 4 || len(quota.Total.Holders) != 1 || quota.Total.Holders[0].Name != "scripted" {
		t.Errorf("the workspace's vCPUs in use = %d held by %d, want the 4 of scripted", quota.Total.WorkspaceUsed, len(quota.Total.Holders))
	}
}
