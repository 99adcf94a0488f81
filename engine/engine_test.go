package engine_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v8"
	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/azure/emulator"
	"github.com/instancehub/instancehub/engine"
	"github.com/instancehub/instancehub/internal/testportal"
	"github.com/instancehub/instancehub/service"
)

func TestEngineLifecycle(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0.05)
	req := testportal.Request("alice-ws")
	req.SSHEnabled, req.SSHPublicKey = true, testportal.SSHKey
	inst, err := p.Service.CreateInstance(p.Ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if inst.State != instancehub.StateCreating {
		t.Fatalf("state after create = %s, want Creating", inst.State)
	}
	running := p.WaitState(t, "alice-ws", instancehub.StateRunning)
	if running.PrivateIP == "" || running.PublicIP == "" {
		t.Errorf("addresses = %q, %q; want both", running.PrivateIP, running.PublicIP)
	}
	if running.Image != "microsoft-dsvm:ubuntu-2204:2204-gen2:25.04.22" {
		t.Errorf("image = %q, want the Data Science VM at the version Azure used", running.Image)
	}
	if op := running.LastOperation; op == nil || op.Kind != instancehub.OpCreate || op.Status != instancehub.StatusSucceeded || op.UserID != p.User.ID {
		t.Fatalf("last operation = %+v, want a succeeded Create by the user", op)
	}

	steps := []struct {
		kind       instancehub.OperationKind
		transient  instancehub.State
		settled    instancehub.State
		powerState string
	}{
		{instancehub.OpStop, instancehub.StateStopping, instancehub.StateStopped, "deallocated"},
		{instancehub.OpStart, instancehub.StateStarting, instancehub.StateRunning, "running"},
		{instancehub.OpRestart, instancehub.StateRestarting, instancehub.StateRunning, "running"},
	}
	for _, s := range steps {
		got, err := p.Service.Act(p.Ctx, "alice-ws", s.kind)
		if err != nil {
			t.Fatalf("%s: %v", s.kind, err)
		}
		if got.State != s.transient {
			t.Errorf("%s: state right after = %s, want %s", s.kind, got.State, s.transient)
		}
		p.WaitState(t, "alice-ws", s.settled)
		vm, err := p.Cloud.VM(p.Ctx, got)
		if err != nil || vm.PowerState != s.powerState {
			t.Errorf("%s: Azure power state = %+v, %v; want %s", s.kind, vm, err, s.powerState)
		}
	}

	if _, err := p.Service.Act(p.Ctx, "alice-ws", instancehub.OpStart); instancehub.ErrorCode(err) != instancehub.ECONFLICT {
		t.Errorf("start while running: err = %v, want conflict", err)
	}
	if _, err := p.Service.Act(p.Ctx, "alice-ws", instancehub.OpDelete); err != nil {
		t.Fatal(err)
	}
	p.WaitGone(t, "alice-ws")
	if _, err := p.Cloud.VM(p.Ctx, running); instancehub.ErrorCode(err) != instancehub.ENOTFOUND {
		t.Errorf("VM after delete: err = %v, want not found", err)
	}
	ops, err := p.DB.FindOperations(p.Ctx, running.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) != 5 {
		t.Fatalf("operations = %d, want 5 (create, stop, start, restart, delete)", len(ops))
	}
	for _, op := range ops {
		if op.Status != instancehub.StatusSucceeded {
			t.Errorf("operation %s: status %s (%s)", op.Kind, op.Status, op.ErrorMessage)
		}
	}
	// The name is free again once the instance is deleted.
	if err := p.Service.CheckName(p.Ctx, "alice-ws"); err != nil {
		t.Errorf("name after delete: %v", err)
	}
}

// TestEngineResumesAfterRestart stops the whole portal mid-create, as a
// crash would, and starts a new one over the same database and emulator.
func TestEngineResumesAfterRestart(t *testing.T) {
	dir := t.TempDir()
	p := testportal.Open(t, dir, 0.2) // create ≈ 1.6 s for the VM alone
	if _, err := p.Service.CreateInstance(p.Ctx, testportal.Request("resume-me")); err != nil {
		t.Fatal(err)
	}
	p.WaitStep(t, "resume-me", "virtual machine")
	p.Close()

	p2 := testportal.Open(t, dir, 0.2)
	inst, err := p2.DB.FindInstanceByName(p2.Ctx, "resume-me")
	if err != nil {
		t.Fatal(err)
	}
	if inst.State != instancehub.StateCreating || inst.LastOperation.Status != instancehub.StatusInProgress {
		t.Fatalf("after restart: state %s, operation %s; want Creating, InProgress", inst.State, inst.LastOperation.Status)
	}
	running := p2.WaitState(t, "resume-me", instancehub.StateRunning)
	if op := running.LastOperation; op.ID != inst.LastOperation.ID || op.Status != instancehub.StatusSucceeded {
		t.Errorf("the resumed operation = %+v, want operation %d succeeded", op, inst.LastOperation.ID)
	}
	if calls := p2.Emu.CallsTo("VirtualMachinesClient.BeginCreateOrUpdate"); calls == 0 {
		t.Error("the resumed create never polled the VM's operation")
	}
}

// TestResumedStepRefusedEnds: a step recorded before a crash, but never
// accepted by Azure, is sent again on restart; when Azure refuses it for
// good (a Restart of a VM deallocated meanwhile), the operation ends failed
// instead of trying forever.
func TestResumedStepRefusedEnds(t *testing.T) {
	dir := t.TempDir()
	p := testportal.Open(t, dir, 0)
	if _, err := p.Service.CreateInstance(p.Ctx, testportal.Request("restart-me")); err != nil {
		t.Fatal(err)
	}
	inst := p.WaitState(t, "restart-me", instancehub.StateRunning)
	vms, err := armcompute.NewVirtualMachinesClient(p.Emu.SubscriptionID(), p.Emu.Credential(), p.Emu.ClientOptions())
	if err != nil {
		t.Fatal(err)
	}
	poller, err := vms.BeginDeallocate(context.Background(), p.Emu.ResourceGroup(), "restart-me", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := poller.PollUntilDone(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	// The portal recorded a Restart and its step, then stopped before Azure answered.
	op := &instancehub.Operation{InstanceID: inst.ID, Kind: instancehub.OpRestart, Trigger: instancehub.TriggerUser, UserID: p.User.ID}
	if err := p.DB.BeginOperation(p.Ctx, op); err != nil {
		t.Fatal(err)
	}
	op.Step = "virtual machine"
	if err := p.DB.SaveOperationProgress(p.Ctx, op); err != nil {
		t.Fatal(err)
	}
	p.Close()

	p2 := testportal.Open(t, dir, 0)
	stopped := p2.WaitState(t, "restart-me", instancehub.StateStopped)
	if got := stopped.LastOperation; got.ID != op.ID || got.Status != instancehub.StatusFailed || got.ErrorCode != "OperationNotAllowed" {
		t.Errorf("resumed restart = %+v, want it failed with Azure's refusal", got)
	}
}

func TestEngineRecordsFailedCreate(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0)
	p.Emu.InjectFault(emulator.Fault{
		API: "VirtualMachinesClient.BeginCreateOrUpdate", Resource: "doomed", Async: true,
		StatusCode: 200, Code: "AllocationFailed",
		Message: "Allocation failed. We do not have sufficient capacity for the requested VM size in this region.",
	})
	if _, err := p.Service.CreateInstance(p.Ctx, testportal.Request("doomed")); err != nil {
		t.Fatal(err)
	}
	inst := p.WaitState(t, "doomed", instancehub.StateCreateFailed)
	op := inst.LastOperation
	if op.Status != instancehub.StatusFailed || op.ErrorCode != "AllocationFailed" || !strings.Contains(op.ErrorMessage, "sufficient capacity") {
		t.Fatalf("operation = %+v, want a failed Create with Azure's code and message", op)
	}
	if op.Step != "virtual machine" || op.StatusLabel() != "CreateFailed" {
		t.Errorf("step %q, status %q; want the VM step, CreateFailed", op.Step, op.StatusLabel())
	}
	// Delete cleans up what the failed create made.
	if _, err := p.Service.Act(p.Ctx, "doomed", instancehub.OpDelete); err != nil {
		t.Fatal(err)
	}
	p.WaitGone(t, "doomed")
}

func TestEngineRecordsSynchronousRefusal(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0)
	if _, err := p.Service.CreateInstance(p.Ctx, testportal.Request("box-one")); err != nil {
		t.Fatal(err)
	}
	p.WaitState(t, "box-one", instancehub.StateRunning)
	p.Emu.InjectFault(emulator.Fault{
		API: "VirtualMachinesClient.BeginDeallocate", Resource: "box-one",
		StatusCode: 409, Code: "OperationNotAllowed", Message: "The VM is locked by a policy.",
	})
	if _, err := p.Service.Act(p.Ctx, "box-one", instancehub.OpStop); err != nil {
		t.Fatal(err)
	}
	inst := p.WaitState(t, "box-one", instancehub.StateRunning)
	op := inst.LastOperation
	if op.Kind != instancehub.OpStop || op.Status != instancehub.StatusFailed || op.ErrorCode != "OperationNotAllowed" || op.ErrorMessage != "The VM is locked by a policy." {
		t.Fatalf("operation = %+v, want a failed Stop with Azure's refusal", op)
	}
}

func TestSyncFollowsAzure(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0)
	p.RunningInstances(t, "stays-up", "stopped-outside", "deleted-outside")
	// Change two VMs behind the portal's back, with the SDK directly.
	vms, err := armcompute.NewVirtualMachinesClient(p.Emu.SubscriptionID(), p.Emu.Credential(), p.Emu.ClientOptions())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	stop, err := vms.BeginDeallocate(ctx, p.Emu.ResourceGroup(), "stopped-outside", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stop.PollUntilDone(ctx, nil); err != nil {
		t.Fatal(err)
	}
	del, err := vms.BeginDelete(ctx, p.Emu.ResourceGroup(), "deleted-outside", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := del.PollUntilDone(ctx, nil); err != nil {
		t.Fatal(err)
	}

	report, err := p.Service.Refresh(p.Ctx)
	if err != nil {
		t.Fatal(err)
	}
	if report.Checked != 3 || report.Changed != 2 || report.Missing != 1 {
		t.Errorf("report = %+v, want 3 checked, 2 changed, 1 missing", report)
	}
	want := map[string]instancehub.State{
		"stays-up": instancehub.StateRunning, "stopped-outside": instancehub.StateStopped, "deleted-outside": instancehub.StateMissing,
	}
	for name, state := range want {
		inst, err := p.DB.FindInstanceByName(p.Ctx, name)
		if err != nil || inst.State != state {
			t.Errorf("%s: %v, %v; want %s", name, stateOf(inst), err, state)
		}
	}
	// A missing instance can be deleted; the portal tolerates the VM being gone.
	if _, err := p.Service.Act(p.Ctx, "deleted-outside", instancehub.OpDelete); err != nil {
		t.Fatal(err)
	}
	p.WaitGone(t, "deleted-outside")
}

func stateOf(inst *instancehub.Instance) instancehub.State {
	if inst == nil {
		return ""
	}
	return inst.State
}

// staleList is Azure whose list of VMs was taken before the instance's VM
// was made: the one VM it lacks still exists.
type staleList struct{ instancehub.Cloud }

func (staleList) VMs(context.Context, func(instancehub.VM)) error { return nil }

// TestSyncConfirmsBeforeMissing: a VM absent from a list is asked for by
// name before the portal calls it missing.
func TestSyncConfirmsBeforeMissing(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0)
	if _, err := p.Service.CreateInstance(p.Ctx, testportal.Request("fresh-box")); err != nil {
		t.Fatal(err)
	}
	p.WaitState(t, "fresh-box", instancehub.StateRunning)
	engine := &engine.Engine{Instances: p.DB, Cloud: staleList{p.Cloud}, Logger: p.Engine.Logger}
	report, err := engine.Sync(p.Ctx)
	if err != nil {
		t.Fatal(err)
	}
	if report.Missing != 0 {
		t.Errorf("report = %+v: an existing VM was called missing", report)
	}
	p.WaitState(t, "fresh-box", instancehub.StateRunning)
}

// singleReads is Azure that records which VMs were read one by one.
type singleReads struct {
	instancehub.Cloud
	read []string
}

func (c *singleReads) VM(ctx context.Context, inst *instancehub.Instance) (*instancehub.VM, error) {
	c.read = append(c.read, inst.Name)
	return c.Cloud.VM(ctx, inst)
}

// TestSyncMatchesNamesInAnyCase: the sync finds each instance's VM in the
// list whatever the case of its name, so that only the VM really absent
// is asked for one by one.
func TestSyncMatchesNamesInAnyCase(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0)
	p.RunningInstances(t, "Zed-Box", "alpha-box", "Mid-Box", "beta-BOX", "gone-box")
	vms, err := armcompute.NewVirtualMachinesClient(p.Emu.SubscriptionID(), p.Emu.Credential(), p.Emu.ClientOptions())
	if err != nil {
		t.Fatal(err)
	}
	del, err := vms.BeginDelete(p.Ctx, p.Emu.ResourceGroup(), "gone-box", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := del.PollUntilDone(p.Ctx, nil); err != nil {
		t.Fatal(err)
	}
	cloud := &singleReads{Cloud: p.Cloud}
	engine := &engine.Engine{Instances: p.DB, Cloud: cloud, Logger: p.Engine.Logger}
	report, err := engine.Sync(p.Ctx)
	if err != nil {
		t.Fatal(err)
	}
	if report.Checked != 5 || report.Changed != 1 || report.Missing != 1 || !slices.Equal(cloud.read, []string{"gone-box"}) {
		t.Errorf("report = %+v, read one by one %q; want 5 checked, gone-box alone missing and read", report, cloud.read)
	}
}

// TestResumedStepWaitsForBusyVM: a Stop recorded before a crash but never
// accepted meets, on restart, another deallocation still running on the VM;
// Azure says it is busy, so the engine waits and tries again, and the Stop
// ends as it should.
func TestResumedStepWaitsForBusyVM(t *testing.T) {
	dir := t.TempDir()
	p := testportal.Open(t, dir, 0.25) // a deallocation takes ≈ 1 s
	if _, err := p.Service.CreateInstance(p.Ctx, testportal.Request("busy-box")); err != nil {
		t.Fatal(err)
	}
	inst := p.WaitState(t, "busy-box", instancehub.StateRunning)
	op := &instancehub.Operation{InstanceID: inst.ID, Kind: instancehub.OpStop, Trigger: instancehub.TriggerUser, UserID: p.User.ID}
	if err := p.DB.BeginOperation(p.Ctx, op); err != nil {
		t.Fatal(err)
	}
	op.Step = "virtual machine"
	if err := p.DB.SaveOperationProgress(p.Ctx, op); err != nil {
		t.Fatal(err)
	}
	vms, err := armcompute.NewVirtualMachinesClient(p.Emu.SubscriptionID(), p.Emu.Credential(), p.Emu.ClientOptions())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := vms.BeginDeallocate(context.Background(), p.Emu.ResourceGroup(), "busy-box", nil); err != nil {
		t.Fatal(err)
	}
	p.Close()

	p2 := testportal.Open(t, dir, 0.25)
	stopped := p2.WaitState(t, "busy-box", instancehub.StateStopped)
	if got := stopped.LastOperation; got.ID != op.ID || got.Status != instancehub.StatusSucceeded {
		t.Errorf("resumed stop = %+v, want it to succeed once the VM was free", got)
	}
}

// TestVMDeletedDuringStart: a VM deleted outside the portal while it
// starts makes Azure answer the start's poll with ResourceNotFound. The
// Start ends failed at once, the instance is Missing, and Delete cleans up.
func TestVMDeletedDuringStart(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0.25) // a start ≈ 1 s
	if _, err := p.Service.CreateInstance(p.Ctx, testportal.Request("vanishing")); err != nil {
		t.Fatal(err)
	}
	p.WaitState(t, "vanishing", instancehub.StateRunning)
	if _, err := p.Service.Act(p.Ctx, "vanishing", instancehub.OpStop); err != nil {
		t.Fatal(err)
	}
	p.WaitState(t, "vanishing", instancehub.StateStopped)
	if _, err := p.Service.Act(p.Ctx, "vanishing", instancehub.OpStart); err != nil {
		t.Fatal(err)
	}
	for {
		inst, err := p.DB.FindInstanceByName(p.Ctx, "vanishing")
		if err != nil {
			t.Fatal(err)
		}
		if op := inst.LastOperation; op.Kind == instancehub.OpStart && op.ResumeToken != "" {
			break // Azure accepted the start
		}
		time.Sleep(5 * time.Millisecond)
	}
	vms, err := armcompute.NewVirtualMachinesClient(p.Emu.SubscriptionID(), p.Emu.Credential(), p.Emu.ClientOptions())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := vms.BeginDelete(context.Background(), p.Emu.ResourceGroup(), "vanishing", nil); err != nil {
		t.Fatal(err)
	}
	missing := p.WaitState(t, "vanishing", instancehub.StateMissing)
	if op := missing.LastOperation; op.Kind != instancehub.OpStart || op.Status != instancehub.StatusFailed || op.ErrorCode != "ResourceNotFound" {
		t.Errorf("start = %s %s %s, want it failed with ResourceNotFound", op.Kind, op.Status, op.ErrorCode)
	}
	if _, err := p.Service.Act(p.Ctx, "vanishing", instancehub.OpDelete); err != nil {
		t.Fatal(err)
	}
	p.WaitGone(t, "vanishing")
}

const listVMs = "VirtualMachinesClient.NewListPager"

// TestRefreshesShareOneListing: forty refreshes at once list Azure's VMs
// once or twice, not forty times, and one right after reuses the result.
func TestRefreshesShareOneListing(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0)
	if _, err := p.Service.CreateInstance(p.Ctx, testportal.Request("listed")); err != nil {
		t.Fatal(err)
	}
	p.WaitState(t, "listed", instancehub.StateRunning)
	reader := p.EnsureUser(t, "rita@example.com", "Rita Reader", instancehub.RoleReader)
	before := p.Emu.CallsTo(listVMs)
	const n = 40
	errs := make(chan error, n)
	for range n {
		go func() {
			report, err := p.Service.Refresh(p.As(reader))
			if err == nil && report.Checked != 1 {
				err = fmt.Errorf("report %+v, want 1 checked", report)
			}
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if calls := p.Emu.CallsTo(listVMs) - before; calls < 1 || calls > 2 {
		t.Errorf("%d refreshes listed Azure's VMs %d times, want once or twice", n, calls)
	}
	listed := p.Emu.CallsTo(listVMs)
	if _, err := p.Service.Refresh(p.As(reader)); err != nil {
		t.Fatal(err)
	}
	if p.Emu.CallsTo(listVMs) != listed {
		t.Error("a refresh right after another listed Azure again")
	}
}

// lowBudget is Azure that reports its read budget nearly spent.
type lowBudget struct{ instancehub.Cloud }

func (lowBudget) ReadBackoff() time.Duration { return 90 * time.Second }

// TestRefreshKeepsToReadBudget: while Azure's read budget is low, a user's
// refresh waits as the background sync does, and says so.
func TestRefreshKeepsToReadBudget(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0)
	engine := &engine.Engine{Instances: p.DB, Cloud: lowBudget{p.Cloud}, Logger: p.Engine.Logger}
	svc := service.New(service.Config{Store: p.DB, Cloud: p.Cloud, Operations: engine, Logger: p.Engine.Logger})
	before := p.Emu.CallsTo(listVMs)
	_, err := svc.Refresh(p.Ctx)
	if instancehub.ErrorCode(err) != instancehub.ETHROTTLED || !strings.Contains(instancehub.ErrorMessage(err), "1m30s") {
		t.Errorf("refresh on a low budget: %v, want it refused until the budget refills", err)
	}
	if p.Emu.CallsTo(listVMs) != before {
		t.Error("the refresh listed Azure's VMs anyway")
	}
}

// TestSyncAtStart: what changed in Azure while the portal was down shows
// as soon as it starts, not one sync interval later; AfterSync is told
// when the sync ends.
func TestSyncAtStart(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0)
	if _, err := p.Service.CreateInstance(p.Ctx, testportal.Request("was-down")); err != nil {
		t.Fatal(err)
	}
	p.WaitState(t, "was-down", instancehub.StateRunning)
	vms, err := armcompute.NewVirtualMachinesClient(p.Emu.SubscriptionID(), p.Emu.Credential(), p.Emu.ClientOptions())
	if err != nil {
		t.Fatal(err)
	}
	stop, err := vms.BeginDeallocate(context.Background(), p.Emu.ResourceGroup(), "was-down", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stop.PollUntilDone(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	synced := make(chan struct{}, 1)
	engine := &engine.Engine{Instances: p.DB, Cloud: p.Cloud, Logger: p.Engine.Logger, SyncInterval: time.Hour,
		AfterSync: func() {
			select {
			case synced <- struct{}{}:
			default: // told already
			}
		}}
	if err := engine.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer engine.Stop()
	p.WaitState(t, "was-down", instancehub.StateStopped)
	// Then the portal is told, to give back what the sync left.
	select {
	case <-synced:
	case <-time.After(10 * time.Second):
		t.Fatal("the sync at start ended without AfterSync")
	}
}

// TestStartGivesANewAppSecret: each Start gives the instance a new
// application secret, stored with the operation before Azure is called, and
// the cloud delivers it to the VM (on Azure, in an extension's protected
// settings): a secret that leaked stops working at the next Start.
func TestStartGivesANewAppSecret(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0)
	if _, err := p.Service.CreateInstance(p.Ctx, testportal.Request("rotating")); err != nil {
		t.Fatal(err)
	}
	first := p.WaitState(t, "rotating", instancehub.StateRunning)
	if !strings.Contains(p.Emu.CustomScript("rotating"), "\n"+first.AppSecret+"\n") {
		t.Fatalf("the VM was not given the instance's secret")
	}
	if _, err := p.Service.Act(p.Ctx, "rotating", instancehub.OpStop); err != nil {
		t.Fatal(err)
	}
	p.WaitState(t, "rotating", instancehub.StateStopped)
	started, err := p.Service.Act(p.Ctx, "rotating", instancehub.OpStart)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := p.DB.FindInstanceByName(p.Ctx, "rotating")
	if err != nil {
		t.Fatal(err)
	}
	if len(stored.AppSecret) < 43 || stored.AppSecret == first.AppSecret || started.AppSecret != stored.AppSecret {
		t.Fatalf("secret after Start was asked: %q (was %q), want a new one stored at once", stored.AppSecret, first.AppSecret)
	}
	p.WaitState(t, "rotating", instancehub.StateRunning)
	if script := p.Emu.CustomScript("rotating"); !strings.Contains(script, "\n"+stored.AppSecret+"\n") || strings.Contains(script, first.AppSecret) {
		t.Errorf("after Start the VM holds another secret than the instance's")
	}
}
