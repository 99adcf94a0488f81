package azure_test

import (
	"context"
	"crypto/tls"
	"encoding/pem"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/azure"
	"github.com/instancehub/instancehub/azure/emulator"
)

// TestRemoteEmulator: the emulator served over HTTPS by another process (a
// test server here) carries a whole life — create with its long-running
// steps, stop, start, an SSH key added, delete — for the real clients that
// reach it by configuration only, and counts each API as in process.
func TestRemoteEmulator(t *testing.T) {
	emu, err := emulator.Open(emulator.Options{Latency: 0.05})
	if err != nil {
		t.Fatal(err)
	}
	defer emu.Close()
	server := httptest.NewTLSServer(emu.Handler())
	defer server.Close()
	ca := filepath.Join(t.TempDir(), "emulator.pem")
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: server.Certificate().Raw})
	if err := os.WriteFile(ca, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	remote, err := emulator.Dial(ctx, server.URL, ca)
	if err != nil {
		t.Fatal(err)
	}
	if remote.SubscriptionID != emu.SubscriptionID() || strings.Join(remote.Regions, ",") != strings.Join(emu.Regions(), ",") {
		t.Fatalf("remote says %+v", remote.Info)
	}
	c, err := azure.New(azure.Config{
		SubscriptionID: remote.SubscriptionID, ResourceGroup: remote.ResourceGroup, Regions: remote.Regions,
		PublicIP: true, PortalID: "test-portal", SSHSourceRange: "203.0.113.0/24", AppSourceRange: "10.9.0.0/24",
	}, remote.Credential(), remote.ClientOptions())
	if err != nil {
		t.Fatal(err)
	}
	inst := instance("remote-box", "Standard_DS3_v2", true)
	if err := run(t, c, instancehub.OpCreate, inst); err != nil {
		t.Fatal(err)
	}
	vm, err := c.VM(ctx, inst)
	if err != nil || vm.State() != instancehub.StateRunning || vm.PublicIP == "" {
		t.Fatalf("after create: %+v, %v", vm, err)
	}
	for _, op := range []instancehub.OperationKind{instancehub.OpStop, instancehub.OpStart} {
		if err := run(t, c, op, inst); err != nil {
			t.Fatalf("%s: %v", op, err)
		}
	}
	// The boot log's signed address names the emulator as the portal
	// reached it, and its download goes there too.
	if log, err := c.BootLog(ctx, inst); err != nil || !strings.Contains(log.Text, "remote-box login:") {
		t.Errorf("boot log: %v %+v", err, log)
	}
	if err := c.AddSSHKey(ctx, inst, inst.SSHPublicKey); err != nil || len(emu.AccessKeys("remote-box")) != 1 {
		t.Errorf("add a key: %v, keys %v", err, emu.AccessKeys("remote-box"))
	}
	if err := run(t, c, instancehub.OpDelete, inst); err != nil {
		t.Fatal(err)
	}
	if _, err := c.VM(ctx, inst); instancehub.ErrorCode(err) != instancehub.ENOTFOUND {
		t.Errorf("after delete: %v", err)
	}
	if emu.CallsTo("VirtualMachinesClient.BeginStart") == 0 || emu.CallsTo("VirtualMachinesClient.BeginDelete") == 0 {
		t.Error("the emulator did not count the remote calls by API")
	}
	// Its price list comes the same way, through the prices client.
	prices := azure.NewRetailPrices(azure.PricesConfig{URL: remote.PricesURL(), Client: remote.HTTPClient(), Source: instancehub.SourceEmulator})
	list, err := prices.Prices(ctx, "eastus")
	if want, _ := emulator.PricePerHour("Standard_DS3_v2", "eastus"); err != nil || len(list) == 0 || priceOf(list, "Standard_DS3_v2") != want {
		t.Errorf("prices through the remote emulator: %d prices, DS3_v2 %v (want %v), %v", len(list), priceOf(list, "Standard_DS3_v2"), want, err)
	}
	// A portal that trusts another certificate does not reach it.
	certFile, keyFile, err := emulator.EnsureCertificate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	other := httptest.NewUnstartedServer(emu.Handler())
	other.TLS = &tls.Config{Certificates: []tls.Certificate{pair}}
	other.StartTLS()
	defer other.Close()
	if _, err := emulator.Dial(ctx, other.URL, ca); err == nil {
		t.Error("an emulator with another certificate was trusted")
	}
	if _, err := emulator.Dial(ctx, other.URL, certFile); err != nil {
		t.Errorf("the emulator's own certificate: %v", err)
	}
}

// priceOf is the price per hour of size in list, whatever the case of its key.
func priceOf(list map[string]instancehub.Price, size string) float64 {
	for k, p := range list {
		if strings.EqualFold(k, size) {
			return p.PerHour
		}
	}
	return -1
}
