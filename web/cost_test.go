package web_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
)

// TestSizePickerShowsPrices: each size shows its price per hour beside its
// cores and memory, outside the radio's name, and the estimate of the size
// chosen says per hour and per month of office hours, with its source.
func TestSizePickerShowsPrices(t *testing.T) {
	s := newSite(t, 0)
	s.signIn(t, "ada@example.com")
	r := s.get(t, "/instances/new")
	wantStatus(t, r, http.StatusOK)
	row := r.doc.Find(`tr[data-size="Standard_DS3_v2"]`)
	if price := text(row.Find(`[data-testid="size-price"]`)); price != "$0.29/hour" {
		t.Errorf("DS3 v2's price = %q, want $0.29/hour", price)
	}
	if price := text(r.doc.Find(`tr[data-size="Standard_DS1_v2"] [data-testid="size-price"]`)); price != "$0.073/hour" {
		t.Errorf("DS1 v2's price = %q, want $0.073/hour", price)
	}
	// The radio's accessible name stays the size's name; the price describes it.
	radio := row.Find(`input[name="vm_size"]`)
	id, _ := radio.Attr("id")
	if label := text(r.doc.Find(`label[for="` + id + `"]`)); label != "Standard_DS3_v2" {
		t.Errorf("the radio's label = %q, want the size's name alone", label)
	}
	if described, _ := radio.Attr("aria-describedby"); described != "price-Standard_DS3_v2 avail-Standard_DS3_v2" {
		t.Errorf("aria-describedby = %q", described)
	}
	if hour, _ := row.Attr("data-hour"); hour != "$0.29/hour" {
		t.Errorf("the row's data-hour = %q", hour)
	}

	estimate := r.doc.Find(`[data-testid="size-estimate"]`)
	if got := text(estimate.Find(`[data-estimate="chosen"]`)); got != "Standard_DS3_v2: $0.29/hour, $51.57 a month of office hours (8 hours × 22 working days = 176 hours)" {
		t.Errorf("estimate = %q", got)
	}
	if _, hidden := estimate.Find(`[data-estimate="none"]`).Attr("hidden"); !hidden {
		t.Error("with a size chosen, the estimate still says none is")
	}
	if live, _ := estimate.Find("#size-estimate").Attr("aria-live"); live != "polite" {
		t.Errorf("the estimate is not announced when it changes (aria-live %q)", live)
	}
	source := text(estimate.Find(`[data-testid="price-source"]`))
	if !strings.HasPrefix(source, "Estimate · the offline emulator's price list, prices of ") || estimate.Find("time[datetime]").Length() != 1 {
		t.Errorf("source = %q, want the estimate's source and date", source)
	}

	// Another region, another choice: the swapped part follows.
	r = s.get(t, "/instances/new/placement?region=westeurope&vm_size=Standard_D4s_v3", "HX-Request", "true")
	wantStatus(t, r, http.StatusOK)
	if got := text(r.doc.Find(`#size-estimate [data-estimate="chosen"]`)); !strings.HasPrefix(got, "Standard_D4s_v3: $0.21/hour, $36.43 a month") {
		t.Errorf("West Europe's D4s v3 = %q, want 0.207 an hour (0.192 × 1.08)", got)
	}
}

// TestEstimateWithNoSizeSaysSo: with no size chosen (none of the region's
// sizes is the one asked for), the estimate says so in words, where it read
// "—: —, —", and hides the figures it has none for.
func TestEstimateWithNoSizeSaysSo(t *testing.T) {
	s := newSite(t, 0)
	s.signIn(t, "ada@example.com")
	r := s.get(t, "/instances/new/placement?region=westeurope&vm_size=Standard_NoSuchSize", "HX-Request", "true")
	wantStatus(t, r, http.StatusOK)
	if n := r.doc.Find(`input[name="vm_size"]:checked`).Length(); n != 0 {
		t.Fatalf("%d sizes chosen, want none", n)
	}
	none := r.doc.Find(`#size-estimate [data-estimate="none"]`)
	if got := text(none); got != "No size chosen yet: choose a size above to see its price per hour and per month." {
		t.Errorf("estimate = %q", got)
	}
	if _, hidden := none.Attr("hidden"); hidden {
		t.Error("the words are hidden")
	}
	if _, hidden := r.doc.Find(`#size-estimate [data-estimate="chosen"]`).Attr("hidden"); !hidden {
		t.Error("the figures of no size are shown")
	}
	if strings.Contains(text(r.doc.Find("#size-estimate")), "—") {
		t.Errorf("the estimate holds a dash: %q", text(r.doc.Find("#size-estimate")))
	}
}

// TestCostOnDetailsAndQuota: the details page shows the cost so far and
// this month, the quota page this month's by family and in total, each
// labelled an estimate with its source.
func TestCostOnDetailsAndQuota(t *testing.T) {
	s := newSite(t, 0)
	var mu sync.Mutex
	now := time.Now().UTC().Truncate(time.Hour)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s.DB.Now, s.Service.Now = clock, clock
	s.SeedNamed(t, "priced-box", s.User)
	mu.Lock()
	now = now.Add(150 * time.Minute)
	mu.Unlock()
	s.signIn(t, "ada@example.com")

	r := s.get(t, "/instances/priced-box")
	wantStatus(t, r, http.StatusOK)
	soFar := text(r.doc.Find(`[data-testid="cost-so-far"]`))
	if soFar != "$0.73 2 h 30 min running" {
		t.Errorf("cost so far = %q, want 2.5 hours at $0.293", soFar)
	}
	if label := text(r.doc.Find(`[data-testid="cost-so-far"]`).Prev()); label != "Cost so far (estimate)" {
		t.Errorf("label = %q", label)
	}
	month := text(r.doc.Find(`[data-testid="cost-this-month"]`))
	if !strings.HasPrefix(month, "$") || !strings.Contains(month, "running since "+instancehub.MonthStart(clock()).Format("Jan 2")+" (UTC)") {
		t.Errorf("this month = %q", month)
	}
	if source := text(r.doc.Find(`[data-testid="cost-source"]`)); !strings.Contains(source, "today's price, $0.29/hour (the offline emulator's price list, prices of") {
		t.Errorf("source = %q", source)
	}

	q := s.get(t, "/quota?region=eastus")
	wantStatus(t, q, http.StatusOK)
	if !strings.Contains(text(q.doc.Find("thead")), "Cost this month") {
		t.Error("no cost column")
	}
	family := text(q.doc.Find(`tr[data-family="standardDSv2Family"] [data-testid="month-cost"]`))
	total := text(q.doc.Find(`tfoot [data-testid="month-cost"]`))
	if family != month[:len(family)] || total != family {
		t.Errorf("DSv2 this month = %q, total %q; want the instance's %q", family, total, month)
	}
	if other := text(q.doc.Find(`tr[data-family="standardNCSv3Family"] [data-testid="month-cost"]`)); other != "$0.00" {
		t.Errorf("a family that did not run = %q", other)
	}
	if note := text(q.doc.Find(`[data-testid="cost-source"]`)); !strings.HasPrefix(note, "Cost this month is an estimate") || !strings.Contains(note, "the offline emulator's price list") {
		t.Errorf("note = %q", note)
	}
	sub := s.get(t, "/quota?region=eastus&view=subscription")
	if got := text(sub.doc.Find(`tfoot [data-testid="month-cost"]`)); got != total {
		t.Errorf("the subscription view's total = %q, want %q", got, total)
	}
}

// TestNoPricesShown: without a price list the pages show no price, no
// estimate and no cost, rather than made-up ones.
func TestNoPricesShown(t *testing.T) {
	s := newSite(t, 0)
	s.Service.Prices = nil
	s.SeedNamed(t, "unpriced-box", s.User)
	s.signIn(t, "ada@example.com")
	for path, sel := range map[string]string{
		"/instances/new":          `[data-testid="size-price"], [data-testid="size-estimate"]`,
		"/instances/unpriced-box": `[data-testid="cost-so-far"], [data-testid="cost-this-month"], [data-testid="cost-source"]`,
		"/quota?region=eastus":    `[data-testid="month-cost"], [data-testid="cost-source"]`,
	} {
		r := s.get(t, path)
		wantStatus(t, r, http.StatusOK)
		if n := r.doc.Find(sel).Length(); n != 0 || strings.Contains(r.body, "$") {
			t.Errorf("%s: %d prices or costs shown, want none", path, n)
		}
	}
}
