package azure_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v8"
	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/azure"
	"github.com/instancehub/instancehub/azure/emulator"
)

// secureSKUs are sizes as the resource SKUs API describes them: one with
// both settings, one that says TrustedLaunchDisabled, a confidential one,
// one without encryption at host, and one that says nothing of either.
func secureSKUs() string {
	base := []string{capability("vCPUs", "4"), capability("MemoryGB", "16"), capability("HyperVGenerations", "V1,V2"),
		capability("CpuArchitectureType", "x64"), capability("PremiumIO", "True")}
	with := func(caps ...string) string { return strings.Join(append(append([]string(nil), base...), caps...), ",") }
	return `{"value":[` + strings.Join([]string{
		sku("Standard_D4s_v5", "standardDSv5Family", with(capability("TrustedLaunchDisabled", "False"), capability("EncryptionAtHostSupported", "True"))),
		sku("Standard_D4s_v2", "standardDSv2Family", with(capability("TrustedLaunchDisabled", "True"), capability("EncryptionAtHostSupported", "True"))),
		sku("Standard_DC4as_v5", "standardDCASv5Family", with(capability("ConfidentialComputingType", "SNP"), capability("EncryptionAtHostSupported", "True"))),
		sku("Standard_E4s_v3", "standardESv3Family", with(capability("TrustedLaunchDisabled", "False"), capability("EncryptionAtHostSupported", "False"))),
		sku("Standard_F4s_v2", "standardFSv2Family", with()),
	}, ",") + `]}`
}

// TestSecuritySettingsOfferSupportingSizes: with Trusted Launch or
// encryption at host on, only the sizes whose SKU supports them are
// offered, so that no create asks Azure for what the size cannot do.
func TestSecuritySettingsOfferSupportingSizes(t *testing.T) {
	for _, tt := range []struct {
		name string
		cfg  azure.Config
		want string
	}{
		{"neither", azure.Config{}, "Standard_DC4as_v5 Standard_D4s_v2 Standard_D4s_v5 Standard_E4s_v3 Standard_F4s_v2"},
		{"trusted launch", azure.Config{TrustedLaunch: true}, "Standard_D4s_v5 Standard_E4s_v3 Standard_F4s_v2"},
		{"encryption at host", azure.Config{EncryptionAtHost: true}, "Standard_DC4as_v5 Standard_D4s_v2 Standard_D4s_v5"},
		{"both", azure.Config{TrustedLaunch: true, EncryptionAtHost: true}, "Standard_D4s_v5"},
	} {
		c := cloudOn(t, tt.cfg, subscription(t, map[string]string{"GET /providers/Microsoft.Compute/skus": secureSKUs()}))
		sizes, err := c.VMSizes(context.Background(), "eastus")
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, s := range sizes {
			names = append(names, s.Name)
		}
		if got := strings.Join(names, " "); got != tt.want {
			t.Errorf("%s: sizes %s, want %s", tt.name, got, tt.want)
		}
	}
}

// TestVMRequestCarriesSecuritySettings: the VM asks for Trusted Launch (a
// vTPM, and Secure Boot unless turned off) and encryption at host when an
// operator turns them on, and for neither otherwise; a VM that exists keeps
// the profile it was made with when its PUT is sent again, since Azure
// changes neither.
func TestVMRequestCarriesSecuritySettings(t *testing.T) {
	emu, err := emulator.Open(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	cloud := func(cfg azure.Config) *azure.Cloud {
		cfg.SubscriptionID, cfg.ResourceGroup, cfg.Regions = emu.SubscriptionID(), emu.ResourceGroup(), emu.Regions()
		cfg.PortalID, cfg.AppSourceRange = "test-portal", "10.9.0.0/24"
		c, err := azure.New(cfg, emu.Credential(), emu.ClientOptions())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	profile := func(name string) *armcompute.SecurityProfile {
		body, _ := emu.RequestBody("virtualMachines", name)
		var vm armcompute.VirtualMachine
		if err := json.Unmarshal(body, &vm); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return vm.Properties.SecurityProfile
	}
	if err := run(t, cloud(azure.Config{TrustedLaunch: true, EncryptionAtHost: true}), instancehub.OpCreate, instance("secure", "Standard_DS3_v2", false)); err != nil {
		t.Fatal(err)
	}
	p := profile("secure")
	if p == nil || p.SecurityType == nil || *p.SecurityType != armcompute.SecurityTypesTrustedLaunch || p.UefiSettings == nil ||
		!*p.UefiSettings.SecureBootEnabled || !*p.UefiSettings.VTpmEnabled || p.EncryptionAtHost == nil || !*p.EncryptionAtHost {
		t.Errorf("Trusted Launch and encryption at host: %+v", p)
	}
	if err := run(t, cloud(azure.Config{TrustedLaunch: true, SecureBootOff: true}), instancehub.OpCreate, instance("unsigned", "Standard_DS3_v2", false)); err != nil {
		t.Fatal(err)
	}
	if p := profile("unsigned"); p == nil || *p.UefiSettings.SecureBootEnabled || !*p.UefiSettings.VTpmEnabled || p.EncryptionAtHost != nil {
		t.Errorf("Trusted Launch without Secure Boot: %+v", p)
	}
	plain := instance("plain", "Standard_DS3_v2", false)
	if err := run(t, cloud(azure.Config{}), instancehub.OpCreate, plain); err != nil {
		t.Fatal(err)
	}
	if p := profile("plain"); p != nil {
		t.Errorf("neither setting: %+v, want no security profile", p)
	}
	// The settings turned on since: the PUT sent again keeps what the VM has.
	if _, err := cloud(azure.Config{TrustedLaunch: true, EncryptionAtHost: true}).BeginStep(context.Background(), instancehub.OpCreate, azure.StepVirtualMachine, plain); err != nil {
		t.Fatal(err)
	}
	if p := profile("plain"); p != nil {
		t.Errorf("the PUT of a VM made without: %+v, want none", p)
	}
}

// TestDoctorChecksSecuritySettings: the doctor checks the image suits the
// Trusted Launch setting (its SecurityType feature), that the subscription
// has the feature encryption at host needs, and that a region has sizes
// that support what every VM asks for.
func TestDoctorChecksSecuritySettings(t *testing.T) {
	features := func(value string) string {
		return `"hyperVGeneration":"V2","architecture":"x64","features":[{"name":"SecurityType","value":"` + value + `"},{"name":"IsAcceleratedNetworkSupported","value":"True"}]`
	}
	for _, tt := range []struct {
		name, properties string
		trusted          bool
		status, mentions string
	}{
		{"supported, on", features("TrustedLaunchSupported"), true, "ok", "for Trusted Launch (vTPM, Secure Boot)"},
		{"supported with CVM, on", features("TrustedLaunchAndConfidentialVmSupported"), true, "ok", "25.04.22"},
		{"standard, on", features("Standard"), true, "fail", "does not support Trusted Launch"},
		{"silent, on", `"hyperVGeneration":"V2"`, true, "warn", "does not say whether it supports Trusted Launch"},
		{"required, off", features("TrustedLaunch"), false, "fail", "set --azure-trusted-launch"},
		{"supported, off", features("TrustedLaunchSupported"), false, "ok", "25.04.22"},
	} {
		got := checkNamed(doctorOn(t, azure.Config{TrustedLaunch: tt.trusted}, imageVersion(tt.properties)), "image in eastus")
		if got.Status != tt.status || !strings.Contains(got.Detail+" "+got.Fix, tt.mentions) {
			t.Errorf("%s: %+v, want %s mentioning %q", tt.name, got, tt.status, tt.mentions)
		}
	}

	feature := "GET /subscriptions/sub-1/providers/Microsoft.Features/providers/Microsoft.Compute/features/EncryptionAtHost"
	for _, tt := range []struct{ state, status, mentions string }{
		{"Registered", "ok", "Microsoft.Compute/EncryptionAtHost"},
		{"NotRegistered", "fail", "az feature register --namespace Microsoft.Compute --name EncryptionAtHost"},
		{"Pending", "fail", "is pending"},
	} {
		checks := doctorOn(t, azure.Config{EncryptionAtHost: true}, map[string]string{feature: `{"name":"Microsoft.Compute/EncryptionAtHost","properties":{"state":"` + tt.state + `"}}`})
		if got := checkNamed(checks, "encryption at host"); got.Status != tt.status || !strings.Contains(got.Detail+" "+got.Fix, tt.mentions) {
			t.Errorf("feature %s: %+v, want %s mentioning %q", tt.state, got, tt.status, tt.mentions)
		}
	}
	if got := checkNamed(doctorOn(t, azure.Config{}, nil), "encryption at host"); got.Status != "missing" {
		t.Errorf("encryption at host off: %+v, want no check", got)
	}

	none := `{"value":[` + sku("Standard_D4s_v2", "standardDSv2Family", strings.Join([]string{capability("vCPUs", "4"), capability("MemoryGB", "16"),
		capability("HyperVGenerations", "V1,V2"), capability("CpuArchitectureType", "x64"), capability("PremiumIO", "True"), capability("TrustedLaunchDisabled", "True")}, ",")) + `]}`
	got := checkNamed(doctorOn(t, azure.Config{TrustedLaunch: true}, map[string]string{"GET /providers/Microsoft.Compute/skus": none}), "region eastus")
	if got.Status != "fail" || !strings.Contains(got.Detail, "no VM size in eastus supports Trusted Launch") {
		t.Errorf("no size supports Trusted Launch: %+v", got)
	}
	got = checkNamed(doctorOn(t, azure.Config{TrustedLaunch: true}, map[string]string{"GET /providers/Microsoft.Compute/skus": secureSKUs()}), "region eastus")
	if got.Status != "ok" || !strings.Contains(got.Detail, "3 VM sizes that support Trusted Launch (vTPM, Secure Boot)") {
		t.Errorf("sizes with Trusted Launch: %+v", got)
	}
}
