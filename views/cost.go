package views

import (
	"fmt"
	"strings"
	"time"

	"github.com/instancehub/instancehub"
)

// perHour is a price as the size picker shows it: "$0.29/hour".
func perHour(p instancehub.Price) string {
	if !p.Known() {
		return "—"
	}
	return p.Hourly().String() + "/hour"
}

// officeMonth is a size's price for a month of office hours.
func officeMonth(p instancehub.Price) string {
	if !p.Known() {
		return "—"
	}
	return p.OfficeMonth().String()
}

// officeMonthText says what a month of office hours is.
var officeMonthText = fmt.Sprintf("8 hours × 22 working days = %d hours", instancehub.OfficeHoursPerMonth)

// chosenSize is the size the create form has chosen, and whether there is one.
func chosenSize(sizes []instancehub.SizeOption, form CreateForm) (instancehub.SizeOption, bool) {
	for _, s := range sizes {
		if s.Fits && sizeChosen(form, s.Name) {
			return s, true
		}
	}
	return instancehub.SizeOption{}, false
}

// listPrice is the price of any size that has one: they all come from the
// same list, read at the same time.
func listPrice(sizes []instancehub.SizeOption) (instancehub.Price, bool) {
	for _, s := range sizes {
		if s.Price.Known() {
			return s.Price, true
		}
	}
	return instancehub.Price{}, false
}

// runningText writes a running time as people read it: "6 h 5 min".
func runningText(d time.Duration) string {
	d = d.Round(time.Minute)
	h, m := int(d.Hours()), int(d.Minutes())%60
	switch {
	case h == 0:
		return fmt.Sprintf("%d min", m)
	case m == 0:
		return fmt.Sprintf("%d h", h)
	}
	return fmt.Sprintf("%d h %d min", h, m)
}

// monthText names the month a cost counts from: "since Dec 1 (UTC)".
func monthText(start time.Time) string {
	return "since " + start.UTC().Format("Jan 2") + " (UTC)"
}

// familyCost is a quota row's cost this month; the total row's is the
// region's.
func familyCost(c *instancehub.MonthCost, row instancehub.QuotaRow) string {
	if row.Name == instancehub.TotalRegionalVCPUs {
		return c.Total.String()
	}
	cost, ok := c.ByFamily[row.Name]
	if !ok {
		cost = instancehub.Money{Currency: c.Total.Currency}
	}
	return cost.String()
}

func unpricedText(sizes []string) string {
	return "Sizes without a price are left out: " + strings.Join(sizes, ", ") + "."
}

// hasPrices reports whether any size has a price, to show the column.
func hasPrices(sizes []instancehub.SizeOption) bool {
	_, ok := listPrice(sizes)
	return ok
}
