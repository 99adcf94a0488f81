package instancehub

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"
)

// Price is what an hour of a VM size costs in a region, pay as you go, on
// Linux: compute only, its disk and public IP bill apart.
type Price struct {
	PerHour  float64
	Currency string // ISO 4217: "USD"
	// AsOf is when the price list was read; Source says which list it is.
	AsOf   time.Time
	Source string
}

// Known reports whether p is a price at all: no price is ever made up.
func (p Price) Known() bool { return p.Currency != "" }

// Hourly is the price of an hour.
func (p Price) Hourly() Money { return Money{Amount: p.PerHour, Currency: p.Currency} }

// Cost is what running for d costs at this price: hours × price, to the
// millisecond the portal recorded.
func (p Price) Cost(d time.Duration) Money {
	return Money{Amount: d.Hours() * p.PerHour, Currency: p.Currency}
}

// OfficeHoursPerMonth is the month of office hours estimates are given for:
// 8 hours a day, 22 working days.
const OfficeHoursPerMonth = 8 * 22

// OfficeMonth is the price of a month of office hours.
func (p Price) OfficeMonth() Money { return p.Cost(OfficeHoursPerMonth * time.Hour) }

// PriceSources name the price lists.
const (
	SourceRetailPrices = "Azure Retail Prices API"
	SourceEmulator     = "the offline emulator's price list"
)

// PriceList gives the prices of VM sizes.
type PriceList interface {
	// Prices returns the prices of a region's VM sizes, keyed by the size's
	// name in lower case; a size the list does not price is absent. It may
	// return the prices it read last, with their date, when the list cannot
	// be read now; EUNAVAILABLE when it cannot and none were read before.
	Prices(ctx context.Context, region string) (map[string]Price, error)
}

// PriceOf returns the price of size in prices, whatever the case of its name.
func PriceOf(prices map[string]Price, size string) (Price, bool) {
	p, ok := prices[strings.ToLower(size)]
	return p, ok
}

// Money is an amount in a currency.
type Money struct {
	Amount   float64
	Currency string
}

// String writes m as people read prices: "$0.29", "$1,204.50"; amounts
// under ten cents keep a third decimal ("$0.073"), so the smallest sizes'
// prices do not all read alike; other currencies after the amount.
func (m Money) String() string {
	decimals := 2
	if a := math.Abs(m.Amount); a > 0 && a < 0.1 {
		decimals = 3
	}
	s := groupThousands(fmt.Sprintf("%.*f", decimals, m.Amount))
	if m.Currency == "USD" {
		if strings.HasPrefix(s, "-") {
			return "-$" + s[1:]
		}
		return "$" + s
	}
	return s + " " + m.Currency
}

// groupThousands puts commas between the thousands of a formatted number.
func groupThousands(s string) string {
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	whole, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if frac != "" {
		return sign + b.String() + "." + frac
	}
	return sign + b.String()
}

// Billed reports whether Azure bills an instance's compute in state s: its
// VM is allocated from Running until a stop has deallocated it, through a
// restart too, and after a failed setup script, which leaves the VM it ran
// on running (SetupFailed, UserSetupFailed). Running time is the time spent
// in these states.
func (s State) Billed() bool {
	switch s {
	case StateRunning, StateRestarting, StateStopping, StateSetupFailed, StateUserSetupFailed:
		return true
	}
	return false
}

// SizeRunningTime is how long the instances of one VM size ran.
type SizeRunningTime struct {
	VMSize  string
	Family  string
	Running time.Duration
}

// MonthStart is the start of t's month, in UTC: "this month" is the
// calendar month of Azure's invoices, which are in UTC.
func MonthStart(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// InstanceCost is an estimate of what an instance's compute has cost: its
// recorded running time at today's price of its size in its region.
type InstanceCost struct {
	Price            Price
	SoFar            Money // since it was created
	ThisMonth        Money // since MonthStart
	RunningSoFar     time.Duration
	RunningThisMonth time.Duration
	MonthStart       time.Time
}

// EstimateInstanceCost computes inst's cost at price from its running time
// so far and this month, as of now.
func EstimateInstanceCost(price Price, soFar, thisMonth time.Duration, now time.Time) *InstanceCost {
	return &InstanceCost{
		Price: price, SoFar: price.Cost(soFar), ThisMonth: price.Cost(thisMonth),
		RunningSoFar: soFar, RunningThisMonth: thisMonth, MonthStart: MonthStart(now),
	}
}

// MonthCost is an estimate of what a region's instances cost this month, by
// quota family and in total, at today's prices.
type MonthCost struct {
	ByFamily map[string]Money
	Total    Money
	Since    time.Time // the start of the month, UTC
	// Source and AsOf say which price list, read when.
	Source string
	AsOf   time.Time
	// Unpriced lists the sizes that ran this month without a price; their
	// time is left out.
	Unpriced []string
}

// EstimateMonthCost prices the running time of a region's sizes; nil when
// none of them has a price.
func EstimateMonthCost(running []SizeRunningTime, prices map[string]Price, now time.Time) *MonthCost {
	if len(prices) == 0 {
		return nil
	}
	c := &MonthCost{ByFamily: map[string]Money{}, Since: MonthStart(now)}
	for _, p := range prices {
		c.Source, c.AsOf, c.Total.Currency = p.Source, p.AsOf, p.Currency
		break
	}
	for _, r := range running {
		price, ok := PriceOf(prices, r.VMSize)
		if !ok {
			c.Unpriced = append(c.Unpriced, r.VMSize)
			continue
		}
		cost := price.Cost(r.Running)
		family := c.ByFamily[r.Family]
		family.Amount, family.Currency = family.Amount+cost.Amount, cost.Currency
		c.ByFamily[r.Family] = family
		c.Total.Amount += cost.Amount
	}
	return c
}
