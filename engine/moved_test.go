package engine_test

import (
	"context"
	"encoding/pem"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/azure/emulator"
	"github.com/instancehub/instancehub/internal/testportal"
)

// TestAnOperationFollowsThePortalToAnotherEmulator: a portal stops with a
// Stop under way in its in-process emulator, and starts again on that
// cloud served by an emulator of its own process (--emulator-url). The
// Stop's resume token leads to the in-process emulator's address, which
// nothing serves: the step is sent again to the emulator now serving, and
// the Stop ends, the one operation, succeeded. (It stayed Stopping for as
// long as Azure may go unheard, 10 minutes, before.)
func TestAnOperationFollowsThePortalToAnotherEmulator(t *testing.T) {
	dir := t.TempDir()
	p := testportal.Open(t, dir, 0.5) // the deallocation takes seconds
	p.RunningInstances(t, "moving")
	if _, err := p.Service.Act(p.Ctx, "moving", instancehub.OpStop); err != nil {
		t.Fatal(err)
	}
	p.WaitStep(t, "moving", "virtual machine")
	stopping, err := p.DB.FindInstanceByName(p.Ctx, "moving")
	if err != nil {
		t.Fatal(err)
	}
	p.Close()

	emu, err := emulator.Open(emulator.Options{Path: filepath.Join(dir, "emulator.db"), Latency: 0.5})
	if err != nil {
		t.Fatal(err)
	}
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
	p2 := testportal.OpenServed(t, dir, emu, remote)
	stopped := p2.WaitState(t, "moving", instancehub.StateStopped)
	if op := stopped.LastOperation; op.ID != stopping.LastOperation.ID || op.Status != instancehub.StatusSucceeded {
		t.Errorf("the Stop = %+v, want operation %d succeeded", op, stopping.LastOperation.ID)
	}
	if n := emu.CallsTo("VirtualMachinesClient.BeginDeallocate"); n == 0 {
		t.Error("the emulator now serving was never asked to deallocate")
	}
	if vm, err := p2.Cloud.VM(p2.Ctx, stopped); err != nil || vm.PowerState != "deallocated" {
		t.Errorf("the VM: %+v, %v", vm, err)
	}
}
