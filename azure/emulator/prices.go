package emulator

import (
	"encoding/json"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
)

// eastUSPrices are the catalog's pay-as-you-go Linux prices, USD per hour
// in East US, near Azure's list prices.
var eastUSPrices = map[string]float64{
	"Standard_DS1_v2": 0.073, "Standard_DS2_v2": 0.146, "Standard_DS3_v2": 0.293,
	"Standard_DS4_v2": 0.585, "Standard_DS5_v2": 1.170,
	"Standard_D2s_v3": 0.096, "Standard_D4s_v3": 0.192, "Standard_D8s_v3": 0.384, "Standard_D16s_v3": 0.768,
	"Standard_E4s_v3": 0.252, "Standard_E8s_v3": 0.504, "Standard_E16s_v3": 1.008,
	"Standard_F4s_v2": 0.169, "Standard_F8s_v2": 0.338, "Standard_F16s_v2": 0.677,
	"Standard_NC6s_v3": 3.060, "Standard_NC12s_v3": 6.120, "Standard_NC24s_v3": 12.240,
	"Standard_NC4as_T4_v3": 0.526, "Standard_NC8as_T4_v3": 0.752, "Standard_NC16as_T4_v3": 1.204,
	"Standard_NC64as_T4_v3":    4.352,
	"Standard_NC24ads_A100_v4": 3.673, "Standard_NC48ads_A100_v4": 7.346, "Standard_NC96ads_A100_v4": 14.692,
}

// regionPriceFactors make the other regions dearer, as Azure's are.
var regionPriceFactors = map[string]float64{"eastus": 1, "westeurope": 1.08, "southeastasia": 1.12}

// pricesLocations are the API's own names of the regions.
var pricesLocations = map[string]string{"eastus": "US East", "westeurope": "EU West", "southeastasia": "AP Southeast"}

// PricePerHour is the pay-as-you-go Linux price of an hour of size in
// region, as the emulator's price list gives it; false for a size or region
// it does not price.
func PricePerHour(size, region string) (float64, bool) {
	s, ok := findSize(size)
	if !ok || !s.offeredIn(region) {
		return 0, false
	}
	return round3(eastUSPrices[s.Name] * regionPriceFactors[region]), true
}

// pricesPath is the Retail Prices API's path, which the emulator answers
// on any host.
const pricesPath = "/api/retail/prices"

// pricesPageSize is small, so that the client reads several pages.
const pricesPageSize = 40

// PricesTransport is the transport of an Azure Retail Prices client that
// should read the emulator's price list: it answers the API's GET, whatever
// the host, in the API's shape, with the Windows, Spot and Low Priority
// meters a client must skip, a page of pricesPageSize items at a time.
// CallsTo("RetailPrices") counts its pages; Calls counts ARM's only.
func (e *Emulator) PricesTransport() http.RoundTripper { return pricesDoor{e} }

type pricesDoor struct{ e *Emulator }

var (
	regionFilter    = regexp.MustCompile(`armRegionName eq '([^']*)'`)
	priceTypeFilter = regexp.MustCompile(`priceType eq '([^']*)'`)
)

// RoundTrip implements http.RoundTripper.
func (d pricesDoor) RoundTrip(req *http.Request) (*http.Response, error) {
	if d.e.closed.Load() {
		return nil, errClosed
	}
	// Counted apart: Calls counts ARM's requests, and this is no ARM API.
	n, _ := d.e.perAPI.LoadOrStore("RetailPrices", new(atomic.Int64))
	n.(*atomic.Int64).Add(1)
	if err := d.e.pause(req.Context(), readLatency); err != nil {
		return nil, err
	}
	if req.Method != http.MethodGet || !strings.HasSuffix(req.URL.Path, pricesPath) {
		return pricesAnswer(req, http.StatusNotFound, map[string]string{"Error": "Not found"}), nil
	}
	filter := req.URL.Query().Get("$filter")
	items := priceItems(match(regionFilter, filter), match(priceTypeFilter, filter))
	skip, _ := strconv.Atoi(req.URL.Query().Get("$skip"))
	skip = min(max(skip, 0), len(items))
	page := items[skip:min(skip+pricesPageSize, len(items))]
	answer := map[string]any{
		"BillingCurrency": "USD", "CustomerEntityId": "Default", "CustomerEntityType": "Retail",
		"Items": page, "NextPageLink": nil, "Count": len(page),
	}
	if skip+len(page) < len(items) {
		next := *req.URL
		q := url.Values{"$filter": {filter}, "$skip": {strconv.Itoa(skip + len(page))}}
		next.RawQuery = q.Encode()
		answer["NextPageLink"] = next.String()
	}
	return pricesAnswer(req, http.StatusOK, answer), nil
}

func match(re *regexp.Regexp, s string) string {
	if m := re.FindStringSubmatch(s); m != nil {
		return m[1]
	}
	return ""
}

func pricesAnswer(req *http.Request, status int, v any) *http.Response {
	body, _ := json.Marshal(v)
	return newResponse(req, status, body)
}

// priceItem is one meter as the Retail Prices API lists it.
type priceItem struct {
	CurrencyCode         string  `json:"currencyCode"`
	TierMinimumUnits     float64 `json:"tierMinimumUnits"`
	RetailPrice          float64 `json:"retailPrice"`
	UnitPrice            float64 `json:"unitPrice"`
	ArmRegionName        string  `json:"armRegionName"`
	Location             string  `json:"location"`
	EffectiveStartDate   string  `json:"effectiveStartDate"`
	MeterName            string  `json:"meterName"`
	ProductName          string  `json:"productName"`
	SKUName              string  `json:"skuName"`
	ServiceName          string  `json:"serviceName"`
	ServiceFamily        string  `json:"serviceFamily"`
	UnitOfMeasure        string  `json:"unitOfMeasure"`
	Type                 string  `json:"type"`
	IsPrimaryMeterRegion bool    `json:"isPrimaryMeterRegion"`
	ArmSKUName           string  `json:"armSkuName"`
}

// priceItems lists the meters of region (every region's when empty) of a
// price type (every type when empty): per size, Linux and Windows pay as
// you go, Linux Spot and Low Priority, and a one-year reservation.
func priceItems(region, priceType string) []priceItem {
	var items []priceItem
	for _, r := range regions {
		if region != "" && r.Name != region {
			continue
		}
		for _, s := range sizesIn(r.Name) {
			linux, _ := PricePerHour(s.Name, r.Name)
			meter := strings.ReplaceAll(strings.TrimPrefix(s.Name, "Standard_"), "_", " ")
			product := "Virtual Machines " + familySeries(s.Family) + " Series"
			item := func(kind, meterSuffix, productSuffix string, price float64) priceItem {
				return priceItem{
					CurrencyCode: "USD", RetailPrice: price, UnitPrice: price, ArmRegionName: r.Name,
					Location: pricesLocations[r.Name], EffectiveStartDate: "2024-01-01T00:00:00Z",
					MeterName: meter + meterSuffix, SKUName: meter + meterSuffix, ProductName: product + productSuffix,
					ServiceName: "Virtual Machines", ServiceFamily: "Compute", UnitOfMeasure: "1 Hour",
					Type: kind, IsPrimaryMeterRegion: true, ArmSKUName: s.Name,
				}
			}
			windowsLicense := 0.046 * float64(s.VCPUs)
			for _, it := range []priceItem{
				item("Consumption", "", " Windows", round3(linux+windowsLicense)),
				item("Consumption", " Spot", "", round3(linux*0.2)),
				item("Consumption", " Low Priority", "", round3(linux*0.2)),
				item("Consumption", "", "", linux),
				item("Reservation", "", "", round3(linux*0.62*8760)),
			} {
				if priceType == "" || it.Type == priceType {
					items = append(items, it)
				}
			}
		}
	}
	return items
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

// familySeries is a quota family's series, as the price list names it:
// standardDSv2Family is DSv2.
func familySeries(family string) string {
	return strings.TrimSuffix(strings.TrimPrefix(family, "standard"), "Family")
}
