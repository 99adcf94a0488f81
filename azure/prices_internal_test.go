package azure

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/azure/emulator"
)

// item is a meter as the Retail Prices API lists it, with what varies set.
func item(sku, skuName, product string, price float64, changes ...func(map[string]any)) map[string]any {
	it := map[string]any{
		"currencyCode": "USD", "tierMinimumUnits": 0.0, "retailPrice": price, "unitPrice": price,
		"armRegionName": "eastus", "location": "US East", "effectiveStartDate": "2023-05-01T00:00:00Z",
		"meterId": "0d5d4e5c-0000-4000-8000-000000000000", "meterName": skuName, "productId": "DZH318Z0BQ5S",
		"skuId": "DZH318Z0BQ5S/00TG", "productName": product, "skuName": skuName, "serviceName": "Virtual Machines",
		"serviceId": "DZH313Z7MMC8", "serviceFamily": "Compute", "unitOfMeasure": "1 Hour", "type": "Consumption",
		"isPrimaryMeterRegion": true, "armSkuName": sku,
	}
	for _, change := range changes {
		change(it)
	}
	return it
}

func set(key string, v any) func(map[string]any) { return func(it map[string]any) { it[key] = v } }

// priceServer serves two pages of East US prices as the API does, with the
// meters a client must skip among them; price sets DS3 v2's.
type priceServer struct {
	*httptest.Server
	requests atomic.Int64
	mu       sync.Mutex
	ds3      float64
	fail     bool
	filters  []string
}

func newPriceServer(t *testing.T) *priceServer {
	s := &priceServer{ds3: 0.293}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.fail {
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
			return
		}
		s.filters = append(s.filters, r.URL.Query().Get("$filter"))
		page := map[string]any{"BillingCurrency": "USD", "CustomerEntityId": "Default", "CustomerEntityType": "Retail"}
		if r.URL.Query().Get("$skip") == "" {
			page["Items"] = []any{
				item("Standard_DS3_v2", "DS3 v2", "Virtual Machines DSv2 Series Windows", 0.477),
				item("Standard_DS3_v2", "DS3 v2 Spot", "Virtual Machines DSv2 Series", 0.0586),
				item("Standard_DS3_v2", "DS3 v2", "Virtual Machines DSv2 Series", 0.31, set("isPrimaryMeterRegion", false)),
				item("Standard_DS3_v2", "DS3 v2", "Virtual Machines DSv2 Series", s.ds3),
			}
			page["NextPageLink"] = s.URL + "/api/retail/prices?$filter=" + strings.ReplaceAll(r.URL.Query().Get("$filter"), " ", "%20") + "&$skip=4"
		} else {
			page["Items"] = []any{
				item("Standard_DS1_v2", "DS1 v2 Low Priority", "Virtual Machines DSv2 Series", 0.0146),
				item("Standard_DS1_v2", "DS1 v2", "Virtual Machines DSv2 Series", 0.073),
				item("Standard_D2s_v3", "D2s v3", "Virtual Machines DSv3 Series", 0.11, set("effectiveStartDate", "2019-01-01T00:00:00Z")),
				item("Standard_D2s_v3", "D2s v3", "Virtual Machines DSv3 Series", 0.096),
				item("Standard_D2s_v3", "D2s v3", "Virtual Machines DSv3 Series", 0.5, set("effectiveStartDate", "2099-01-01T00:00:00Z")),
				item("DSv3_Type1", "DSv3 Type1", "Virtual Machines DSv3 Series Dedicated Host", 4.2),
				item("Standard_NC6s_v3", "NC6s v3", "Virtual Machines NCSv3 Series", 3.06, set("unitOfMeasure", "1/Month")),
			}
			page["NextPageLink"] = nil
		}
		page["Count"] = len(page["Items"].([]any))
		json.NewEncoder(w).Encode(page)
	}))
	t.Cleanup(s.Close)
	return s
}

// fakeClock moves only when told to.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *fakeClock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.now = c.now.Add(d) }

func newTestPrices(url string, clock *fakeClock) *RetailPrices {
	return NewRetailPrices(PricesConfig{
		URL: url + "/api/retail/prices", Now: clock.Now,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
}

// settle waits for the read of region under way, if any.
func (p *RetailPrices) settle(region string) {
	p.mu.Lock()
	r := p.regions[region]
	var reading chan struct{}
	if r != nil {
		reading = r.reading
	}
	p.mu.Unlock()
	if reading != nil {
		<-reading
	}
}

func perHour(t *testing.T, prices map[string]instancehub.Price) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for k, p := range prices {
		out[k] = p.PerHour
	}
	return out
}

// TestRetailPricesKeepLinuxPayAsYouGo reads both pages and keeps, per size,
// the Linux pay-as-you-go price in effect: not Windows, Spot, Low Priority,
// a dedicated host, a secondary meter, a monthly unit, an old or a future price.
func TestRetailPricesKeepLinuxPayAsYouGo(t *testing.T) {
	server := newPriceServer(t)
	clock := &fakeClock{now: time.Date(2026, 11, 27, 14, 5, 0, 0, time.UTC)}
	prices, err := newTestPrices(server.URL, clock).Prices(context.Background(), "eastus")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"standard_ds3_v2": 0.293, "standard_ds1_v2": 0.073, "standard_d2s_v3": 0.096}
	if got := perHour(t, prices); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("prices = %v, want %v", got, want)
	}
	p := prices["standard_ds3_v2"]
	if p.Currency != "USD" || !p.AsOf.Equal(clock.Now()) || p.Source != instancehub.SourceRetailPrices {
		t.Errorf("DS3 v2: %+v, want USD as of now from the Retail Prices API", p)
	}
	wantFilter := "serviceName eq 'Virtual Machines' and armRegionName eq 'eastus' and priceType eq 'Consumption'"
	if len(server.filters) != 2 || server.filters[0] != wantFilter || server.filters[1] != wantFilter {
		t.Errorf("filters sent = %q, want %q on both pages", server.filters, wantFilter)
	}
}

// TestRetailPricesCachedForADay reads a region once a day: old prices are
// answered at once while they are read again, and a failed read keeps
// them, with their date, until a later read succeeds.
func TestRetailPricesCachedForADay(t *testing.T) {
	ctx := context.Background()
	server := newPriceServer(t)
	clock := &fakeClock{now: time.Date(2026, 11, 27, 14, 5, 0, 0, time.UTC)}
	list := newTestPrices(server.URL, clock)
	first := clock.Now()
	ds3 := func() instancehub.Price {
		t.Helper()
		prices, err := list.Prices(ctx, "eastus")
		if err != nil {
			t.Fatal(err)
		}
		return prices["standard_ds3_v2"]
	}
	ds3()
	clock.Add(23 * time.Hour)
	if p := ds3(); server.requests.Load() != 2 || !p.AsOf.Equal(first) {
		t.Fatalf("within the day: %d requests, price of %v; want the first 2 only, of %v", server.requests.Load(), p.AsOf, first)
	}

	server.mu.Lock()
	server.ds3 = 0.31
	server.mu.Unlock()
	clock.Add(2 * time.Hour)
	if p := ds3(); p.PerHour != 0.293 {
		t.Errorf("the first request after a day got %v, want the old price at once", p.PerHour)
	}
	list.settle("eastus")
	second := clock.Now()
	if p := ds3(); p.PerHour != 0.31 || !p.AsOf.Equal(second) || server.requests.Load() != 4 {
		t.Errorf("after the read: %v of %v (%d requests), want 0.31 of %v (4)", p.PerHour, p.AsOf, server.requests.Load(), second)
	}

	server.mu.Lock()
	server.fail = true
	server.mu.Unlock()
	clock.Add(25 * time.Hour)
	ds3()
	list.settle("eastus")
	if p := ds3(); p.PerHour != 0.31 || !p.AsOf.Equal(second) {
		t.Errorf("after a failed read: %v of %v, want the last prices, of %v", p.PerHour, p.AsOf, second)
	}
	failed := server.requests.Load()
	clock.Add(10 * time.Minute)
	ds3()
	list.settle("eastus")
	if server.requests.Load() != failed {
		t.Errorf("read again %d times 10 minutes after a failure, want none before 15", server.requests.Load()-failed)
	}
	server.mu.Lock()
	server.fail = false
	server.mu.Unlock()
	clock.Add(6 * time.Minute)
	ds3()
	list.settle("eastus")
	if p := ds3(); !p.AsOf.Equal(clock.Now()) {
		t.Errorf("after the retry: prices of %v, want of now", p.AsOf)
	}
}

// TestRetailPricesUnavailable: with no read ever succeeded there are no
// prices, never made-up ones; a next page elsewhere is not followed.
func TestRetailPricesUnavailable(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{now: time.Date(2026, 11, 27, 14, 5, 0, 0, time.UTC)}
	down := httptest.NewServer(http.NotFoundHandler())
	defer down.Close()
	if _, err := newTestPrices(down.URL, clock).Prices(ctx, "eastus"); instancehub.ErrorCode(err) != instancehub.EUNAVAILABLE {
		t.Errorf("API down: %v, want unavailable", err)
	}
	away := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"Items":[],"NextPageLink":"https://elsewhere.example/api/retail/prices?$skip=100"}`)
	}))
	defer away.Close()
	_, err := newTestPrices(away.URL, clock).Prices(ctx, "eastus")
	if instancehub.ErrorCode(err) != instancehub.EUNAVAILABLE || !strings.Contains(err.Error(), "elsewhere") {
		t.Errorf("a next page elsewhere: %v, want unavailable", err)
	}
	if _, err := newTestPrices(away.URL, clock).Prices(ctx, "eastus' or 'a' eq 'a"); instancehub.ErrorCode(err) != instancehub.EINVALID {
		t.Errorf("a region that is no region's name: %v, want invalid", err)
	}
}

// TestEmulatorPrices reads the emulator's price list through the same
// client: every size of each region's catalog has its price, over several
// pages, and the meters to skip are skipped.
func TestEmulatorPrices(t *testing.T) {
	emu, err := emulator.Open(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer emu.Close()
	list := NewRetailPrices(PricesConfig{Client: &http.Client{Transport: emu.PricesTransport()}, Source: instancehub.SourceEmulator})
	for _, region := range emu.Regions() {
		prices, err := list.Prices(context.Background(), region)
		if err != nil {
			t.Fatal(err)
		}
		sizes := 0
		for _, size := range emulator.DefaultCatalog().Sizes {
			want, offered := emulator.PricePerHour(size.Name, region)
			got, ok := instancehub.PriceOf(prices, size.Name)
			if offered {
				sizes++
			}
			if ok != offered || got.PerHour != want || (ok && (got.Source != instancehub.SourceEmulator || got.Currency != "USD")) {
				t.Errorf("%s in %s: %+v (%v), want %v (%v)", size.Name, region, got, ok, want, offered)
			}
		}
		if len(prices) != sizes {
			t.Errorf("%s: %d prices, want %d", region, len(prices), sizes)
		}
	}
	if emu.CallsTo("RetailPrices") < 6 {
		t.Errorf("%d pages read for 3 regions, want several each", emu.CallsTo("RetailPrices"))
	}
	east, _ := emulator.PricePerHour("Standard_DS3_v2", "eastus")
	europe, _ := emulator.PricePerHour("Standard_DS3_v2", "westeurope")
	if east != 0.293 || europe <= east {
		t.Errorf("DS3 v2 costs %v in East US and %v in West Europe; want 0.293 and a little more", east, europe)
	}
}

// TestPricesStayOnTheirOrigin: a redirect to another origin (another host,
// or another port of the same) is refused, as a next page there is.
func TestPricesStayOnTheirOrigin(t *testing.T) {
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the price list was read from %s", r.URL)
	}))
	defer other.Close()
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/api/retail/prices", http.StatusFound)
	}))
	defer redirect.Close()
	list := NewRetailPrices(PricesConfig{URL: redirect.URL + "/api/retail/prices"})
	if _, err := list.Prices(context.Background(), "eastus"); err == nil {
		t.Error("prices read through a redirect elsewhere")
	}
}
