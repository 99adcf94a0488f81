package emulator

import (
	"maps"
	"slices"
	"strings"
)

// Catalog is what the emulated cloud offers.
type Catalog struct {
	Regions []Region
	Sizes   []Size
	Images  []Image                   // marketplace images, offered in every region
	Quota   map[string]map[string]int // default vCPU limits: region -> family or TotalCores -> limit
}

// DefaultCatalog returns (a copy of) the emulator's catalog; Options.Quota
// overrides entries of its Quota.
func DefaultCatalog() Catalog {
	c := Catalog{Regions: slices.Clone(regions), Sizes: slices.Clone(sizes), Images: slices.Clone(images), Quota: defaultQuotaCopy()}
	for i := range c.Sizes {
		c.Sizes[i].Regions = slices.Clone(c.Sizes[i].Regions)
	}
	for i := range c.Images {
		c.Images[i].Versions = slices.Clone(c.Images[i].Versions)
	}
	return c
}

// Region is a region of the emulated cloud.
type Region struct {
	Name        string // eastus
	DisplayName string // East US
	vnetPrefix  string // first two octets of the region's default virtual network
	publicNet   string // first two octets of the public addresses handed out there
}

// regions are the three regions the emulator offers; each gets its own
// default virtual network so instances in different regions never share one.
var regions = []Region{
	{"eastus", "East US", "10.1", "20.121"},
	{"westeurope", "West Europe", "10.2", "20.76"},
	{"southeastasia", "Southeast Asia", "10.3", "20.195"},
}

func findRegion(name string) (Region, bool) {
	for _, r := range regions {
		if r.Name == name {
			return r, true
		}
	}
	return Region{}, false
}

// Size is a VM size of the emulated catalog, with Azure's real numbers.
type Size struct {
	Name         string // Standard_NC6s_v3
	Family       string // the quota family: standardNCSv3Family
	VCPUs        int
	MemoryGiB    float64
	GPUs         int
	MaxDataDisks int
	TempDiskGiB  int
	Regions      []string // where the size is offered
}

var (
	everywhere    = []string{"eastus", "westeurope", "southeastasia"}
	notWestEurope = []string{"eastus", "southeastasia"}
	notSEAsia     = []string{"eastus", "westeurope"}
	eastUSOnly    = []string{"eastus"}
)

// sizes is the catalog. Not every GPU size is offered everywhere, as in Azure,
// so callers meet SkuNotAvailable.
var sizes = []Size{
	// name, family, vCPUs, GiB, GPUs, max data disks, temp disk GiB, regions
	{"Standard_DS1_v2", "standardDSv2Family", 1, 3.5, 0, 4, 7, everywhere},
	{"Standard_DS2_v2", "standardDSv2Family", 2, 7, 0, 8, 14, everywhere},
	{"Standard_DS3_v2", "standardDSv2Family", 4, 14, 0, 16, 28, everywhere},
	{"Standard_DS4_v2", "standardDSv2Family", 8, 28, 0, 32, 56, everywhere},
	{"Standard_DS5_v2", "standardDSv2Family", 16, 56, 0, 64, 112, everywhere},
	{"Standard_D2s_v3", "standardDSv3Family", 2, 8, 0, 4, 16, everywhere},
	{"Standard_D4s_v3", "standardDSv3Family", 4, 16, 0, 8, 32, everywhere},
	{"Standard_D8s_v3", "standardDSv3Family", 8, 32, 0, 16, 64, everywhere},
	{"Standard_D16s_v3", "standardDSv3Family", 16, 64, 0, 32, 128, everywhere},
	{"Standard_E4s_v3", "standardESv3Family", 4, 32, 0, 8, 64, everywhere},
	{"Standard_E8s_v3", "standardESv3Family", 8, 64, 0, 16, 128, everywhere},
	{"Standard_E16s_v3", "standardESv3Family", 16, 128, 0, 32, 256, everywhere},
	{"Standard_F4s_v2", "standardFSv2Family", 4, 8, 0, 8, 32, everywhere},
	{"Standard_F8s_v2", "standardFSv2Family", 8, 16, 0, 16, 64, everywhere},
	{"Standard_F16s_v2", "standardFSv2Family", 16, 32, 0, 32, 128, everywhere},
	{"Standard_NC6s_v3", "standardNCSv3Family", 6, 112, 1, 12, 736, everywhere},
	{"Standard_NC12s_v3", "standardNCSv3Family", 12, 224, 2, 24, 1474, everywhere},
	{"Standard_NC24s_v3", "standardNCSv3Family", 24, 448, 4, 32, 2948, notWestEurope},
	{"Standard_NC4as_T4_v3", "standardNCASv3_T4Family", 4, 28, 1, 8, 180, everywhere},
	{"Standard_NC8as_T4_v3", "standardNCASv3_T4Family", 8, 56, 1, 16, 360, everywhere},
	{"Standard_NC16as_T4_v3", "standardNCASv3_T4Family", 16, 110, 1, 32, 360, everywhere},
	{"Standard_NC64as_T4_v3", "standardNCASv3_T4Family", 64, 440, 4, 32, 2880, notSEAsia},
	{"Standard_NC24ads_A100_v4", "standardNCADSA100v4Family", 24, 220, 1, 8, 1123, notSEAsia},
	{"Standard_NC48ads_A100_v4", "standardNCADSA100v4Family", 48, 440, 2, 16, 2246, eastUSOnly},
	{"Standard_NC96ads_A100_v4", "standardNCADSA100v4Family", 96, 880, 4, 32, 4492, eastUSOnly},
}

func findSize(name string) (Size, bool) {
	for _, s := range sizes {
		if strings.EqualFold(s.Name, name) {
			return s, true
		}
	}
	return Size{}, false
}

func (s Size) offeredIn(region string) bool { return slices.Contains(s.Regions, region) }

func sizesIn(region string) []Size {
	var out []Size
	for _, s := range sizes {
		if s.offeredIn(region) {
			out = append(out, s)
		}
	}
	return out
}

// TotalCores is the usage name of a region's total vCPU quota.
const TotalCores = "cores"

// familyLabels are the localized names Azure's usage list gives the families.
var familyLabels = map[string]string{
	"standardDSv2Family":        "Standard DSv2 Family vCPUs",
	"standardDSv3Family":        "Standard DSv3 Family vCPUs",
	"standardESv3Family":        "Standard ESv3 Family vCPUs",
	"standardFSv2Family":        "Standard FSv2 Family vCPUs",
	"standardNCSv3Family":       "Standard NCSv3 Family vCPUs",
	"standardNCASv3_T4Family":   "Standard NCASv3_T4 Family vCPUs",
	"standardNCADSA100v4Family": "Standard NCADS_A100_v4 Family vCPUs",
}

func families() []string { return slices.Sorted(maps.Keys(familyLabels)) }

// defaultQuota lets a demo create several CPU instances and a few GPU ones;
// the NCSv3 quotas are small, and A100 has none in eastus, as on a fresh
// subscription.
var defaultQuota = map[string]map[string]int{
	"eastus": {TotalCores: 100, "standardDSv2Family": 40, "standardDSv3Family": 40, "standardESv3Family": 32,
		"standardFSv2Family": 32, "standardNCSv3Family": 24, "standardNCASv3_T4Family": 24, "standardNCADSA100v4Family": 0},
	"westeurope": {TotalCores: 64, "standardDSv2Family": 32, "standardDSv3Family": 32, "standardESv3Family": 24,
		"standardFSv2Family": 24, "standardNCSv3Family": 12, "standardNCASv3_T4Family": 16, "standardNCADSA100v4Family": 24},
	"southeastasia": {TotalCores: 48, "standardDSv2Family": 24, "standardDSv3Family": 24, "standardESv3Family": 16,
		"standardFSv2Family": 16, "standardNCSv3Family": 12, "standardNCASv3_T4Family": 8, "standardNCADSA100v4Family": 0},
}

func defaultQuotaCopy() map[string]map[string]int {
	out := map[string]map[string]int{}
	for region, limits := range defaultQuota {
		out[region] = maps.Clone(limits)
	}
	return out
}

// Image is a marketplace image of the emulated catalog.
type Image struct {
	Publisher, Offer, SKU string
	Versions              []string // oldest first; "latest" resolves to the last
	HyperVGeneration      string
}

// images holds the Data Science VM and plain Ubuntu, enough for instancehub.
var images = []Image{
	{"microsoft-dsvm", "ubuntu-2204", "2204-gen2", []string{"24.10.18", "25.01.15", "25.04.22"}, "V2"},
	{"microsoft-dsvm", "ubuntu-2204", "2204", []string{"24.10.18", "25.01.15", "25.04.22"}, "V1"},
	{"Canonical", "ubuntu-24_04-lts", "server", []string{"24.04.202411030", "24.04.202502210"}, "V2"},
	{"Canonical", "0001-com-ubuntu-server-jammy", "22_04-lts-gen2", []string{"22.04.202411010", "22.04.202502200"}, "V2"},
}

func findImage(images []Image, publisher, offer, sku string) (Image, bool) {
	for _, im := range images {
		if strings.EqualFold(im.Publisher, publisher) && strings.EqualFold(im.Offer, offer) && strings.EqualFold(im.SKU, sku) {
			return im, true
		}
	}
	return Image{}, false
}

// resolve returns the exact version a request names, "" when there is none.
func (im Image) resolve(version string) string {
	if strings.EqualFold(version, "latest") || version == "" {
		return im.Versions[len(im.Versions)-1]
	}
	for _, v := range im.Versions {
		if v == version {
			return v
		}
	}
	return ""
}
