package azure

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/instancehub/instancehub"
)

// RetailPricesURL is the public Azure Retail Prices API: no sign-in, the
// same list prices for every customer.
const RetailPricesURL = "https://prices.azure.com/api/retail/prices"

// Bounds of one read of a region's prices: Azure lists some 5,000 virtual
// machine meters a region, 1,000 a page.
const (
	maxPricePages    = 100
	maxPricePageSize = 16 << 20
	priceReadTimeout = 2 * time.Minute
)

// PricesConfig says where prices are read and how long they are kept.
type PricesConfig struct {
	// URL is the API's address; RetailPricesURL when empty.
	URL string
	// Client sends the requests (the emulator's transport offline); a
	// client with a timeout when nil.
	Client *http.Client
	// Source names the list in what the pages say; the API's name when empty.
	Source string
	// TTL is how long a region's prices are kept before they are read
	// again, a day when zero; RetryAfter is how long a failed read waits
	// before the next, 15 minutes when zero.
	TTL, RetryAfter time.Duration
	Now             func() time.Time
	Logger          *slog.Logger
}

// RetailPrices reads the pay-as-you-go prices of Linux virtual machines
// from the Azure Retail Prices API and keeps each region's for a day. Once
// they are old, the first request answers with them while they are read
// again in the background; a read that fails keeps the last prices, with
// their date, and is tried again later.
type RetailPrices struct {
	cfg     PricesConfig
	mu      sync.Mutex
	regions map[string]*regionPrices
}

var _ instancehub.PriceList = (*RetailPrices)(nil)

// regionPrices is what is known of a region's prices; guarded by the mutex.
type regionPrices struct {
	prices  map[string]instancehub.Price // nil until read once
	readAt  time.Time
	triedAt time.Time
	err     error         // of the last read, if it failed
	reading chan struct{} // closed when the read under way ends
}

// NewRetailPrices returns a price list over the API, with cfg's defaults set.
func NewRetailPrices(cfg PricesConfig) *RetailPrices {
	if cfg.URL == "" {
		cfg.URL = RetailPricesURL
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 30 * time.Second, CheckRedirect: stayOnOrigin}
	}
	if cfg.Source == "" {
		cfg.Source = instancehub.SourceRetailPrices
	}
	if cfg.TTL == 0 {
		cfg.TTL = 24 * time.Hour
	}
	if cfg.RetryAfter == 0 {
		cfg.RetryAfter = 15 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &RetailPrices{cfg: cfg, regions: map[string]*regionPrices{}}
}

// Prices returns the prices of region's sizes, keyed by lower-case size
// name. The first call for a region waits for the read; later ones never
// do. EUNAVAILABLE when no read of the region has succeeded yet.
func (p *RetailPrices) Prices(ctx context.Context, region string) (map[string]instancehub.Price, error) {
	if !validRegionName(region) {
		return nil, instancehub.Errorf(instancehub.EINVALID, "Region %q is not a region's name.", region)
	}
	p.mu.Lock()
	r := p.regions[region]
	if r == nil {
		r = &regionPrices{}
		p.regions[region] = r
	}
	now := p.cfg.Now()
	if r.reading == nil && now.Sub(r.readAt) >= p.cfg.TTL && now.Sub(r.triedAt) >= p.cfg.RetryAfter {
		p.startRead(region, r, now)
	}
	prices, reading, err := r.prices, r.reading, r.err
	p.mu.Unlock()
	if prices != nil {
		return prices, nil
	}
	if reading == nil {
		return nil, unavailablePrices(region, err)
	}
	select {
	case <-reading:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if r.prices == nil {
		return nil, unavailablePrices(region, r.err)
	}
	return r.prices, nil
}

func unavailablePrices(region string, err error) error {
	return instancehub.Errorf(instancehub.EUNAVAILABLE, "The prices of %s could not be read: %v", region, err)
}

// startRead reads region's prices in the background, detached from the
// request that asked (others wait for the same read); p.mu is held.
func (p *RetailPrices) startRead(region string, r *regionPrices, now time.Time) {
	r.reading, r.triedAt = make(chan struct{}), now
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), priceReadTimeout)
		defer cancel()
		prices, err := p.read(ctx, region)
		p.mu.Lock()
		defer p.mu.Unlock()
		if err != nil {
			p.cfg.Logger.Warn("read VM prices", "region", region, "kept_from", r.readAt, "err", err)
			r.err = err
		} else {
			r.prices, r.readAt, r.err = prices, p.cfg.Now(), nil
		}
		close(r.reading)
		r.reading = nil
	}()
}

// read reads every page of region's virtual machine prices.
func (p *RetailPrices) read(ctx context.Context, region string) (map[string]instancehub.Price, error) {
	filter := fmt.Sprintf("serviceName eq 'Virtual Machines' and armRegionName eq '%s' and priceType eq 'Consumption'", region)
	next := p.cfg.URL + "?$filter=" + strings.ReplaceAll(url.QueryEscape(filter), "+", "%20")
	now := p.cfg.Now()
	best := map[string]retailItem{}
	for page := 0; next != ""; page++ {
		if page == maxPricePages {
			return nil, fmt.Errorf("more than %d pages of prices", maxPricePages)
		}
		items, link, err := p.readPage(ctx, next)
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			key := strings.ToLower(it.ArmSKUName)
			// Of a meter's prices, the one in effect now is the latest begun.
			if kept, ok := best[key]; it.payAsYouGoLinux(region, now) && (!ok || it.EffectiveStartDate.After(kept.EffectiveStartDate)) {
				best[key] = it
			}
		}
		next = link
	}
	prices := make(map[string]instancehub.Price, len(best))
	for key, it := range best {
		prices[key] = instancehub.Price{PerHour: it.RetailPrice, Currency: it.CurrencyCode, AsOf: now, Source: p.cfg.Source}
	}
	return prices, nil
}

// retailPage is a page of the API's answer.
type retailPage struct {
	Items        []retailItem `json:"Items"`
	NextPageLink string       `json:"NextPageLink"`
}

// retailItem is one meter's price.
type retailItem struct {
	CurrencyCode         string    `json:"currencyCode"`
	RetailPrice          float64   `json:"retailPrice"`
	ArmRegionName        string    `json:"armRegionName"`
	ArmSKUName           string    `json:"armSkuName"`
	ProductName          string    `json:"productName"`
	SKUName              string    `json:"skuName"`
	MeterName            string    `json:"meterName"`
	ServiceName          string    `json:"serviceName"`
	UnitOfMeasure        string    `json:"unitOfMeasure"`
	Type                 string    `json:"type"`
	EffectiveStartDate   time.Time `json:"effectiveStartDate"`
	IsPrimaryMeterRegion *bool     `json:"isPrimaryMeterRegion"`
}

// payAsYouGoLinux keeps the hourly pay-as-you-go price of a Linux VM in
// effect now: not Windows (whose license the price includes), not Spot or
// Low Priority (which Azure may evict), not a dedicated host, not a
// reservation or savings plan, and the primary meter where there are two.
func (it retailItem) payAsYouGoLinux(region string, now time.Time) bool {
	sku := it.SKUName + " " + it.MeterName
	return it.Type == "Consumption" && it.ServiceName == "Virtual Machines" && it.ArmSKUName != "" &&
		strings.EqualFold(it.ArmRegionName, region) && it.UnitOfMeasure == "1 Hour" && it.RetailPrice > 0 &&
		it.CurrencyCode != "" && !it.EffectiveStartDate.After(now) &&
		!strings.Contains(it.ProductName, "Windows") && !strings.Contains(it.ProductName, "Dedicated Host") &&
		!strings.Contains(sku, "Spot") && !strings.Contains(sku, "Low Priority") &&
		(it.IsPrimaryMeterRegion == nil || *it.IsPrimaryMeterRegion)
}

// readPage reads one page, and the link of the next if it is on the same
// origin: a page may not send the portal elsewhere.
func (p *RetailPrices) readPage(ctx context.Context, link string) ([]retailItem, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, link, nil)
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := p.cfg.Client.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("GET %s: %s", req.URL.Redacted(), resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxPricePageSize+1))
	if err != nil {
		return nil, "", err
	}
	if len(body) > maxPricePageSize {
		return nil, "", fmt.Errorf("a page of prices is over %d bytes", maxPricePageSize)
	}
	var page retailPage
	if err := json.Unmarshal(body, &page); err != nil {
		return nil, "", fmt.Errorf("a page of prices: %w", err)
	}
	if page.NextPageLink == "" {
		return page.Items, "", nil
	}
	next, err := req.URL.Parse(page.NextPageLink)
	if err != nil || !sameOrigin(next, req.URL) {
		return nil, "", fmt.Errorf("the next page of prices is elsewhere: %q", page.NextPageLink)
	}
	return page.Items, next.String(), nil
}

// sameOrigin reports whether a and b have the same scheme, host and port.
func sameOrigin(a, b *url.URL) bool {
	return a.Scheme == b.Scheme && strings.EqualFold(a.Host, b.Host)
}

// stayOnOrigin refuses a redirect to another origin than the price list's:
// the portal reads from the address it was given and nowhere else.
func stayOnOrigin(req *http.Request, via []*http.Request) error {
	if len(via) >= 5 || !sameOrigin(req.URL, via[0].URL) {
		return fmt.Errorf("the price list redirected elsewhere: %s", req.URL.Redacted())
	}
	return nil
}

// validRegionName keeps a region's name, which goes into the filter
// between quotes, to what Azure's names are made of.
func validRegionName(region string) bool {
	if region == "" || len(region) > 64 {
		return false
	}
	for _, r := range region {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}
