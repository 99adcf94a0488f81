package azure_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	azfake "github.com/Azure/azure-sdk-for-go/sdk/azcore/fake"
	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/azure"
)

func sku(name, family string, caps string) string {
	return `{"resourceType":"virtualMachines","name":"` + name + `","family":"` + family + `","locations":["eastus"],"restrictions":[],"capabilities":[` + caps + `]}`
}

func capability(name, value string) string { return `{"name":"` + name + `","value":"` + value + `"}` }

// TestSizesRunTheVM: the VM is a Generation 2 x64 image on a Premium SSD
// disk, so sizes that are Generation 1 only, Arm64, or without premium
// storage are not offered; vCPUs and memory come from the SKU itself, and
// the deprecated virtual machine sizes API is not called.
func TestSizesRunTheVM(t *testing.T) {
	good := strings.Join([]string{capability("vCPUs", "4"), capability("MemoryGB", "16"), capability("HyperVGenerations", "V1,V2"),
		capability("CpuArchitectureType", "x64"), capability("PremiumIO", "True")}, ",")
	gpu := strings.Join([]string{capability("vCPUs", "6"), capability("MemoryGB", "112"), capability("GPUs", "1"), capability("HyperVGenerations", "V1,V2"),
		capability("CpuArchitectureType", "x64"), capability("PremiumIO", "True")}, ",")
	gen1 := strings.Join([]string{capability("vCPUs", "2"), capability("MemoryGB", "8"), capability("HyperVGenerations", "V1"),
		capability("CpuArchitectureType", "x64"), capability("PremiumIO", "True")}, ",")
	arm64 := strings.Join([]string{capability("vCPUs", "4"), capability("MemoryGB", "16"), capability("HyperVGenerations", "V2"),
		capability("CpuArchitectureType", "Arm64"), capability("PremiumIO", "True")}, ",")
	standard := strings.Join([]string{capability("vCPUs", "2"), capability("MemoryGB", "4"), capability("HyperVGenerations", "V1,V2"),
		capability("CpuArchitectureType", "x64"), capability("PremiumIO", "False")}, ",")
	a := subscription(t, map[string]string{
		"GET /providers/Microsoft.Compute/skus": `{"value":[` + strings.Join([]string{
			sku("Standard_D4s_v5", "standardDSv5Family", good),
			sku("Standard_NC6s_v3", "standardNCSv3Family", gpu),
			sku("Standard_A2", "standardAFamily", gen1),
			sku("Standard_D4ps_v5", "standardDPSv5Family", arm64),
			sku("Standard_D2_v5", "standardDv5Family", standard),
		}, ",") + `]}`,
	})
	var asked []string
	a.Config.Handler = logged(a.Config.Handler, &asked)
	sizes, err := loopbackCloud(t, a).VMSizes(context.Background(), "eastus")
	if err != nil {
		t.Fatal(err)
	}
	want := []instancehub.VMSize{
		{Name: "Standard_D4s_v5", Family: "standardDSv5Family", VCPUs: 4, MemoryGiB: 16},
		{Name: "Standard_NC6s_v3", Family: "standardNCSv3Family", VCPUs: 6, MemoryGiB: 112, GPUs: 1},
	}
	if len(sizes) != len(want) {
		t.Fatalf("sizes = %+v, want %+v", sizes, want)
	}
	for i := range want {
		if sizes[i] != want[i] {
			t.Errorf("size %d = %+v, want %+v", i, sizes[i], want[i])
		}
	}
	for _, path := range asked {
		if strings.Contains(path, "/vmSizes") {
			t.Errorf("called the deprecated sizes API: %s", path)
		}
	}
}

func logged(h http.Handler, paths *[]string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		*paths = append(*paths, r.URL.Path)
		h.ServeHTTP(w, r)
	})
}

// TestSizesLeaveOutGPUsTheImageCannotDrive: the Data Science VM drives
// whole NVIDIA GPUs with the CUDA driver; NVadsA10 v5 (an A10 partition, for
// NVIDIA's GRID driver), NVv4, NGads V620 and NVads V710 v5 (AMD GPUs) would
// boot without a usable GPU, so they are not offered, while NVIDIA's
// NC sizes are. Another image's drivers are its own: nothing is left out.
func TestSizesLeaveOutGPUsTheImageCannotDrive(t *testing.T) {
	gpu := strings.Join([]string{capability("vCPUs", "6"), capability("MemoryGB", "55"), capability("GPUs", "1"), capability("HyperVGenerations", "V1,V2"),
		capability("CpuArchitectureType", "x64"), capability("PremiumIO", "True")}, ",")
	a := subscription(t, map[string]string{
		"GET /providers/Microsoft.Compute/skus": `{"value":[` + strings.Join([]string{
			sku("Standard_NC6s_v3", "standardNCSv3Family", gpu),
			sku("Standard_NC4as_T4_v3", "standardNCASv3_T4Family", gpu),
			sku("Standard_NV6ads_A10_v5", "StandardNVADSA10v5Family", gpu),
			sku("Standard_NV36ads_A10_v5", "StandardNVADSA10v5Family", gpu),
			sku("Standard_NV8as_v4", "standardNVSv4Family", gpu),
			sku("Standard_NG8ads_V620_v1", "StandardNGADSV620v1Family", gpu),
			sku("Standard_NV4ads_V710_v5", "StandardNVADSV710v5Family", gpu),
		}, ",") + `]}`,
	})
	names := func(c *azure.Cloud) []string {
		sizes, err := c.VMSizes(context.Background(), "eastus")
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, s := range sizes {
			out = append(out, s.Name)
		}
		return out
	}
	if got, want := names(loopbackCloud(t, a)), []string{"Standard_NC4as_T4_v3", "Standard_NC6s_v3"}; !slices.Equal(got, want) {
		t.Errorf("sizes offered with the Data Science VM: %q, want %q", got, want)
	}
	other, err := azure.New(azure.Config{SubscriptionID: "sub-1", ResourceGroup: "rg-1", Regions: []string{"eastus"},
		Image: azure.Image{Publisher: "contoso", Offer: "grid-workstation", SKU: "gen2", Version: "1.0.0"}}, &azfake.TokenCredential{}, loopbackOptions(a))
	if err != nil {
		t.Fatal(err)
	}
	if got := names(other); len(got) != 7 {
		t.Errorf("sizes offered with another image: %q, want all 7", got)
	}
}
