package azure_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	azfake "github.com/Azure/azure-sdk-for-go/sdk/azcore/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v8"
	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/azure"
	"github.com/instancehub/instancehub/azure/emulator"
)

// TestBootLog: every VM is made with managed boot diagnostics (on, no
// storage account named), and its boot log reads back from the emulator as
// text: its console's colours and carriage returns gone, its own name and
// address in it. A VM without boot diagnostics says so; the download
// addresses Azure hands out stop working when they expire.
func TestBootLog(t *testing.T) {
	clock := newTestClock()
	c, emu := newCloud(t, emulator.Options{Now: clock.Now})
	inst := instance("boot-box", "Standard_DS1_v2", false)
	if err := run(t, c, instancehub.OpCreate, inst); err != nil {
		t.Fatal(err)
	}
	body, _ := emu.RequestBody("virtualMachines", "boot-box")
	var put armcompute.VirtualMachine
	if err := json.Unmarshal(body, &put); err != nil {
		t.Fatal(err)
	}
	if d := put.Properties.DiagnosticsProfile; d == nil || d.BootDiagnostics == nil || !*d.BootDiagnostics.Enabled || d.BootDiagnostics.StorageURI != nil {
		t.Errorf("the VM's PUT: diagnostics %+v, want managed boot diagnostics on", d)
	}

	ctx := context.Background()
	log, err := c.BootLog(ctx, inst)
	if err != nil {
		t.Fatal(err)
	}
	vm, _ := c.VM(ctx, inst)
	for _, want := range []string{"Linux version", "Cloud-init v.", "| " + vm.PrivateIP + " |", "[  OK  ] Started docker.service", "boot-box login:"} {
		if !strings.Contains(log.Text, want) {
			t.Errorf("the boot log lacks %q:\n%s", want, log.Text)
		}
	}
	if strings.ContainsAny(log.Text, "\x1b\r") || log.Truncated {
		t.Errorf("the boot log keeps its terminal's controls, or was cut: %q", log.Text)
	}

	// The addresses the emulator hands out expire, as Azure's do.
	vms, err := armcompute.NewVirtualMachinesClient(emu.SubscriptionID(), emu.Credential(), emu.ClientOptions())
	if err != nil {
		t.Fatal(err)
	}
	data, err := vms.RetrieveBootDiagnosticsData(ctx, emu.ResourceGroup(), "boot-box",
		&armcompute.VirtualMachinesClientRetrieveBootDiagnosticsDataOptions{SasURIExpirationTimeInMinutes: to.Ptr[int32](5)})
	if err != nil || data.SerialConsoleLogBlobURI == nil || !strings.HasPrefix(*data.SerialConsoleLogBlobURI, "https://") {
		t.Fatalf("%+v %v", data, err)
	}
	download := func(address string) int {
		t.Helper()
		req, _ := http.NewRequestWithContext(context.WithValue(ctx, runtime.CtxAPINameKey{}, azure.BlobDownloadAPI), http.MethodGet, address, nil)
		resp, err := emu.ClientOptions().Transport.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := download(*data.SerialConsoleLogBlobURI); code != http.StatusOK {
		t.Errorf("a fresh address: %d", code)
	}
	if code := download(strings.Replace(*data.SerialConsoleLogBlobURI, "sig=", "sig=x", 1)); code != http.StatusForbidden {
		t.Errorf("a forged signature: %d, want 403", code)
	}
	clock.Sleep(ctx, 6*time.Minute)
	if code := download(*data.SerialConsoleLogBlobURI); code != http.StatusForbidden {
		t.Errorf("an address 6 minutes after it was signed for 5: %d, want 403", code)
	}

	// A VM whose boot diagnostics are off (made before the portal turned
	// them on) has no boot log to show.
	got, err := vms.Get(ctx, emu.ResourceGroup(), "boot-box", nil)
	if err != nil {
		t.Fatal(err)
	}
	got.Properties.DiagnosticsProfile = &armcompute.DiagnosticsProfile{BootDiagnostics: &armcompute.BootDiagnostics{Enabled: to.Ptr(false)}}
	got.Properties.InstanceView, got.Properties.ProvisioningState = nil, nil
	p, err := vms.BeginCreateOrUpdate(ctx, emu.ResourceGroup(), "boot-box", got.VirtualMachine, nil)
	if err == nil {
		_, err = p.PollUntilDone(ctx, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.BootLog(ctx, inst); instancehub.ErrorCode(err) != instancehub.EUNAVAILABLE || !strings.Contains(instancehub.ErrorMessage(err), "Boot diagnostics are off on boot-box") {
		t.Errorf("boot diagnostics off: %v", err)
	}
}

// TestBootLogOverHTTP reads a boot log as Azure serves it, over TLS: the VM,
// then the signed address, then the blob, which must get no Authorization
// header (the portal's ARM token is for ARM alone); a log longer than the
// page shows is cut to its last whole lines.
func TestBootLogOverHTTP(t *testing.T) {
	var mu sync.Mutex
	var blobAuth []string
	long := strings.Repeat("[   12.000000] systemd[1]: a line of a long boot\r\n", 12_000) + "\x1b[1;31mFAILED\x1b[0m to start instancehub-jupyter.service\r\nboot-box login: "
	server := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/virtualMachines/boot-box"):
			fmt.Fprint(w, `{"name":"boot-box","properties":{"diagnosticsProfile":{"bootDiagnostics":{"enabled":true}}}}`)
		case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/virtualMachines/boot-box/retrieveBootDiagnosticsData"):
			if r.URL.Query().Get("sasUriExpirationTimeInMinutes") != "5" {
				t.Errorf("retrieveBootDiagnosticsData asks for %q minutes", r.URL.Query().Get("sasUriExpirationTimeInMinutes"))
			}
			fmt.Fprintf(w, `{"consoleScreenshotBlobUri":"https://%[1]s/bootdiagnostics/boot-box.bmp?sig=s","serialConsoleLogBlobUri":"https://%[1]s/bootdiagnostics/boot-box.serialconsole.log?sv=2022-11-02&sig=s"}`, r.Host)
		case r.Method == http.MethodGet && r.URL.Path == "/bootdiagnostics/boot-box.serialconsole.log" && r.URL.Query().Get("sig") == "s":
			blobAuth = append(blobAuth, r.Header.Get("Authorization"))
			fmt.Fprint(w, long)
		default:
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprintf(w, `{"error":{"code":"ResourceNotFound","message":"%s %s"}}`, r.Method, r.URL.Path)
		}
	}))
	defer server.Close()
	c, err := azure.New(azure.Config{SubscriptionID: "sub-1", ResourceGroup: "rg-1", Regions: []string{"eastus"}}, &azfake.TokenCredential{}, loopbackOptions(&armServer{Server: server}))
	if err != nil {
		t.Fatal(err)
	}
	log, err := c.BootLog(context.Background(), &instancehub.Instance{Name: "boot-box"})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(blobAuth) != 1 || blobAuth[0] != "" {
		t.Errorf("the blob's requests carried Authorization %q, want one without", blobAuth)
	}
	if !log.Truncated || len(log.Text) > instancehub.MaxBootLogBytes || !strings.HasPrefix(log.Text, "[   12.000000] systemd[1]") ||
		!strings.HasSuffix(log.Text, "FAILED to start instancehub-jupyter.service\nboot-box login: ") {
		t.Errorf("truncated %v, %d bytes, from %.40q to %q", log.Truncated, len(log.Text), log.Text, log.Text[max(0, len(log.Text)-80):])
	}
}
