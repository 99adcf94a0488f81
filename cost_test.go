package instancehub_test

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

func TestMoneyString(t *testing.T) {
	tests := []struct {
		m    instancehub.Money
		want string
	}{
		{instancehub.Money{Amount: 0.293, Currency: "USD"}, "$0.29"},
		{instancehub.Money{Amount: 0.073, Currency: "USD"}, "$0.073"},
		{instancehub.Money{Amount: 0, Currency: "USD"}, "$0.00"},
		{instancehub.Money{Amount: 51.568, Currency: "USD"}, "$51.57"},
		{instancehub.Money{Amount: 2585.792, Currency: "USD"}, "$2,585.79"},
		{instancehub.Money{Amount: 1234567.5, Currency: "USD"}, "$1,234,567.50"},
		{instancehub.Money{Amount: -12.5, Currency: "USD"}, "-$12.50"},
		{instancehub.Money{Amount: 12.5, Currency: "EUR"}, "12.50 EUR"},
	}
	for _, tt := range tests {
		if got := tt.m.String(); got != tt.want {
			t.Errorf("%+v = %q, want %q", tt.m, got, tt.want)
		}
	}
}

// clock is a time tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestPriceArithmetic(t *testing.T) {
	ds3 := instancehub.Price{PerHour: 0.293, Currency: "USD"}
	if got := ds3.OfficeMonth(); !near(got.Amount, 0.293*176) || got.String() != "$51.57" {
		t.Errorf("a month of office hours = %v, want 176 hours at $0.293", got)
	}
	if got := ds3.Cost(90 * time.Minute); !near(got.Amount, 0.4395) {
		t.Errorf("90 minutes = %v, want $0.4395", got.Amount)
	}
	if (instancehub.Price{}).Known() || !ds3.Known() {
		t.Error("a zero price is known, or a real one is not")
	}
	// The month is UTC's: half past midnight on December 1 in Athens is
	// still November there.
	athens := time.FixedZone("EET", 2*3600)
	tests := []struct{ t, want time.Time }{
		{time.Date(2026, 12, 1, 0, 30, 0, 0, athens), time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)},
		{time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)},
		{time.Date(2027, 1, 31, 23, 59, 59, 0, time.UTC), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		if got := instancehub.MonthStart(tt.t); !got.Equal(tt.want) {
			t.Errorf("MonthStart(%v) = %v, want %v", tt.t, got, tt.want)
		}
	}
}

func TestEstimateMonthCost(t *testing.T) {
	asOf := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	prices := map[string]instancehub.Price{
		"standard_ds3_v2":  {PerHour: 0.293, Currency: "USD", AsOf: asOf, Source: instancehub.SourceRetailPrices},
		"standard_ds4_v2":  {PerHour: 0.585, Currency: "USD", AsOf: asOf, Source: instancehub.SourceRetailPrices},
		"standard_nc6s_v3": {PerHour: 3.06, Currency: "USD", AsOf: asOf, Source: instancehub.SourceRetailPrices},
	}
	running := []instancehub.SizeRunningTime{
		{VMSize: "Standard_DS3_v2", Family: "standardDSv2Family", Running: 10 * time.Hour},
		{VMSize: "Standard_DS4_v2", Family: "standardDSv2Family", Running: 2 * time.Hour},
		{VMSize: "Standard_NC6s_v3", Family: "standardNCSv3Family", Running: 30 * time.Minute},
		{VMSize: "Standard_Z9", Family: "standardZFamily", Running: time.Hour},
	}
	now := time.Date(2026, 12, 12, 9, 0, 0, 0, time.UTC)
	c := instancehub.EstimateMonthCost(running, prices, now)
	if !near(c.ByFamily["standardDSv2Family"].Amount, 2.93+1.17) || !near(c.ByFamily["standardNCSv3Family"].Amount, 1.53) {
		t.Errorf("by family = %v, want DSv2 $4.10 and NCSv3 $1.53", c.ByFamily)
	}
	if !near(c.Total.Amount, 5.63) || c.Total.Currency != "USD" {
		t.Errorf("total = %v, want $5.63", c.Total)
	}
	if len(c.Unpriced) != 1 || c.Unpriced[0] != "Standard_Z9" {
		t.Errorf("unpriced = %v, want the size without a price", c.Unpriced)
	}
	if !c.Since.Equal(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)) || !c.AsOf.Equal(asOf) || c.Source != instancehub.SourceRetailPrices {
		t.Errorf("since %v, prices of %v from %q", c.Since, c.AsOf, c.Source)
	}
	if instancehub.EstimateMonthCost(running, nil, now) != nil {
		t.Error("an estimate without prices, want none")
	}
}

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
		if _, err := p.DB.SyncInstance(p.Ctx, inst.ID, found.Version, instancehub.InstanceUpdate{State: state}); err != nil {
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
