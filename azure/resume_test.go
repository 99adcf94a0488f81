package azure_test

import (
	"context"
	"encoding/pem"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/azure"
	"github.com/instancehub/instancehub/azure/emulator"
)

// TestCanResumeOnlyItsOwnTokens: a cloud follows the resume tokens of its
// own Resource Manager, not those of the same emulator reached another way
// (in process, then served by a process of its own), nor a token that is
// not one.
func TestCanResumeOnlyItsOwnTokens(t *testing.T) {
	inProcess, emu := newCloud(t, emulator.Options{Latency: 0.1}) // a stop is under way when begun
	server := httptest.NewTLSServer(emu.Handler())
	defer server.Close()
	ca := filepath.Join(t.TempDir(), "emulator.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: server.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	remote, err := emulator.Dial(context.Background(), server.URL, ca)
	if err != nil {
		t.Fatal(err)
	}
	served, err := azure.New(azure.Config{SubscriptionID: remote.SubscriptionID, ResourceGroup: remote.ResourceGroup,
		Regions: remote.Regions}, remote.Credential(), remote.ClientOptions())
	if err != nil {
		t.Fatal(err)
	}
	a, b := instance("tokens-a", "Standard_DS3_v2", false), instance("tokens-b", "Standard_DS3_v2", false)
	for _, inst := range []*instancehub.Instance{a, b} {
		if err := run(t, inProcess, instancehub.OpCreate, inst); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	local, err := inProcess.BeginStep(ctx, instancehub.OpStop, azure.StepVirtualMachine, a)
	if err != nil || local == "" {
		t.Fatalf("a stop in process: token %q, %v", local, err)
	}
	away, err := served.BeginStep(ctx, instancehub.OpStop, azure.StepVirtualMachine, b)
	if err != nil || away == "" {
		t.Fatalf("a stop through the served emulator: token %q, %v", away, err)
	}
	for _, tt := range []struct {
		cloud *azure.Cloud
		name  string
		token string
		want  bool
	}{
		{inProcess, "in process, its own", local, true},
		{served, "served, its own", away, true},
		{served, "served, the in-process one's", local, false},
		{inProcess, "in process, the served one's", away, false},
		{served, "not a token", "{}", false},
		{served, "not JSON", "Bearer x", false},
	} {
		if got := tt.cloud.CanResume(tt.token); got != tt.want {
			t.Errorf("%s: CanResume = %v, want %v (%s)", tt.name, got, tt.want, tt.token)
		}
	}
}
