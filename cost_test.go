package instancehub_test

import (
	"math"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
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
