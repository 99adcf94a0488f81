package service_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/azure/emulator"
	"github.com/instancehub/instancehub/internal/testportal"
)

func TestWorkspaceQuotaOnCreateAndStart(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0)
	if err := p.Service.SetWorkspaceLimit(p.Ctx, "eastus", "standardDSv2Family", 8, false); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"first-box", "second-box"} {
		if _, err := p.Service.CreateInstance(p.Ctx, testportal.Request(name)); err != nil {
			t.Fatal(err)
		}
		p.WaitState(t, name, instancehub.StateRunning)
	}
	// The size picker and the create itself refuse a third 4-vCPU instance.
	opts, err := p.Service.CreateOptions(p.Ctx, "eastus")
	if err != nil {
		t.Fatal(err)
	}
	const full = "Standard DSv2 Family: 4 vCPUs requested, but 8 of the workspace's limit of 8 are in use in eastus."
	for _, o := range opts.Sizes {
		if o.Name == "Standard_DS3_v2" && (o.Fits || o.Reason != full) {
			t.Errorf("DS3_v2 in the picker = %+v", o)
		}
	}
	_, err = p.Service.CreateInstance(p.Ctx, testportal.Request("third-box"))
	if got := instancehub.ErrorFields(err)["vm_size"]; got != full {
		t.Fatalf("third create: %q, want %q", got, full)
	}
	// Stopping frees the workspace's cores (Azure's stay held).
	if _, err := p.Service.Act(p.Ctx, "first-box", instancehub.OpStop); err != nil {
		t.Fatal(err)
	}
	p.WaitState(t, "first-box", instancehub.StateStopped)
	if _, err := p.Service.CreateInstance(p.Ctx, testportal.Request("third-box")); err != nil {
		t.Fatalf("create after a stop: %v", err)
	}
	p.WaitState(t, "third-box", instancehub.StateRunning)
	// Starting needs them again.
	_, err = p.Service.Act(p.Ctx, "first-box", instancehub.OpStart)
	if instancehub.ErrorCode(err) != instancehub.EQUOTA || instancehub.ErrorMessage(err) != full {
		t.Fatalf("start over the limit: %v", err)
	}
	inst, _ := p.DB.FindInstanceByName(p.Ctx, "first-box")
	if inst.State != instancehub.StateStopped {
		t.Errorf("a refused start left the instance %s", inst.State)
	}
	// Deleting frees them.
	if _, err := p.Service.Act(p.Ctx, "third-box", instancehub.OpDelete); err != nil {
		t.Fatal(err)
	}
	p.WaitGone(t, "third-box")
	if _, err := p.Service.Act(p.Ctx, "first-box", instancehub.OpStart); err != nil {
		t.Fatalf("start after a delete: %v", err)
	}
	// The regional total is a workspace limit too.
	if err := p.Service.SetWorkspaceLimit(p.Ctx, "eastus", instancehub.TotalRegionalVCPUs, 10, false); err != nil {
		t.Fatal(err)
	}
	req := testportal.Request("e-box")
	req.VMSize = "Standard_E4s_v3"
	_, err = p.Service.CreateInstance(p.Ctx, req)
	if got := instancehub.ErrorFields(err)["vm_size"]; !strings.HasPrefix(got, "Total regional vCPUs: 4 vCPUs requested, but 8 of the workspace's limit of 10") {
		t.Errorf("over the total: %q", got)
	}
}

func TestWorkspaceQuotaReleasedByFailedCreate(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0)
	if err := p.Service.SetWorkspaceLimit(p.Ctx, "eastus", "standardDSv2Family", 4, false); err != nil {
		t.Fatal(err)
	}
	p.Emu.InjectFault(emulator.Fault{API: "VirtualMachinesClient.BeginCreateOrUpdate", Resource: "unlucky", Async: true,
		StatusCode: 200, Code: "AllocationFailed", Message: "No capacity."})
	if _, err := p.Service.CreateInstance(p.Ctx, testportal.Request("unlucky")); err != nil {
		t.Fatal(err)
	}
	p.WaitState(t, "unlucky", instancehub.StateCreateFailed)
	if _, err := p.Service.CreateInstance(p.Ctx, testportal.Request("lucky")); err != nil {
		t.Fatalf("create after a failed one: %v", err)
	}
}

func TestWorkspaceLimitNeverAboveSubscription(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0)
	err := p.Service.SetWorkspaceLimit(p.Ctx, "eastus", "standardNCSv3Family", 1000, false)
	if msg := instancehub.ErrorFields(err)["limit"]; !strings.Contains(msg, "cannot exceed the subscription's: at most 24 vCPUs") {
		t.Errorf("above the subscription: %v", err)
	}
	if err := p.Service.SetWorkspaceLimit(p.Ctx, "eastus", "standardNopeFamily", 4, false); instancehub.ErrorCode(err) != instancehub.EINVALID {
		t.Errorf("unknown family: %v", err)
	}
	ds := p.EnsureUser(t, "ds@example.com", "Dana", instancehub.RoleDataScientist)
	if err := p.Service.SetWorkspaceLimit(p.As(ds), "eastus", "standardNCSv3Family", 6, false); instancehub.ErrorCode(err) != instancehub.EFORBIDDEN {
		t.Errorf("a Data Scientist sets a limit: %v", err)
	}
	log, _ := p.Service.AuditEvents(p.Ctx, instancehub.AuditFilter{Action: "quota.update"}, 1)
	// The Owner's two failures of one minute are one row counting two.
	if log.Total != 2 || log.Events[0].Result != instancehub.AuditDenied ||
		log.Events[1].Result != instancehub.AuditFailed || log.Events[1].Count != 2 {
		t.Errorf("quota changes audited: %d rows, newest %+v", log.Total, log.Events[0])
	}
}

// TestWorkspaceQuotaRace: twenty people create at once against a limit that
// allows three; exactly three get an instance.
func TestWorkspaceQuotaRace(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0)
	if err := p.Service.SetWorkspaceLimit(p.Ctx, "eastus", "standardDSv2Family", 3, false); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 20)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := testportal.Request("racer-" + string(rune('a'+i)) + "x")
			req.VMSize = "Standard_DS1_v2"
			_, errs[i] = p.Service.CreateInstance(p.Ctx, req)
		}()
	}
	wg.Wait()
	created := 0
	for _, err := range errs {
		switch {
		case err == nil:
			created++
		case !strings.Contains(instancehub.ErrorFields(err)["vm_size"], "of the workspace's limit of 3"):
			t.Errorf("refusal = %v", err)
		}
	}
	if created != 3 {
		t.Fatalf("%d instances created, want exactly 3", created)
	}
	q, _ := p.DB.WorkspaceQuota(p.Ctx, "eastus")
	if q.Used["standardDSv2Family"] != 3 {
		t.Errorf("workspace usage = %d, want 3", q.Used["standardDSv2Family"])
	}
}

func TestSubscriptionQuota(t *testing.T) {
	dir := t.TempDir()
	p := testportal.OpenWith(t, dir, emulator.Options{
		Path: filepath.Join(dir, "emulator.json"), Quota: map[string]map[string]int{"eastus": {"standardNCSv3Family": 6}},
	})
	gpu := testportal.Request("gpu-one")
	gpu.VMSize = "Standard_NC6s_v3"
	if _, err := p.Service.CreateInstance(p.Ctx, gpu); err != nil {
		t.Fatal(err)
	}
	p.WaitState(t, "gpu-one", instancehub.StateRunning)
	if _, err := p.Service.Act(p.Ctx, "gpu-one", instancehub.OpStop); err != nil {
		t.Fatal(err)
	}
	p.WaitState(t, "gpu-one", instancehub.StateStopped)
	// Azure still counts the stopped VM: a second one does not fit.
	gpu.Name = "gpu-two"
	_, err := p.Service.CreateInstance(p.Ctx, gpu)
	const want = "Standard NCSv3 Family: 6 vCPUs requested, but 6 of the subscription's limit of 6 are in use in eastus."
	if got := instancehub.ErrorFields(err)["vm_size"]; got != want {
		t.Fatalf("second GPU: %q, want %q", got, want)
	}
	// Starting needs no subscription quota: the VM kept its cores.
	if _, err := p.Service.Act(p.Ctx, "gpu-one", instancehub.OpStart); err != nil {
		t.Fatalf("start: %v", err)
	}
	p.WaitState(t, "gpu-one", instancehub.StateRunning)

	// When Azure itself refuses (quota used between the form and the VM),
	// the failed operation says so in the same words.
	raced := &instancehub.Instance{
		Name: "gpu-raced", Region: "eastus", VMSize: "Standard_NC6s_v3", Family: "standardNCSv3Family", VCPUs: 6,
		MemoryGiB: 112, GPUs: 1, SSHPort: 22, VirtualNetwork: "vnet-eastus", Subnet: "default",
		OwnerID: p.User.ID, CreatedByID: p.User.ID, OwnerEmail: p.User.Email,
	}
	if _, err := p.Engine.Create(p.Ctx, raced, instancehub.TriggerUser); err != nil {
		t.Fatal(err)
	}
	failed := p.WaitState(t, "gpu-raced", instancehub.StateCreateFailed)
	op := failed.LastOperation
	if op.ErrorCode != "OperationNotAllowed" || op.ErrorMessage != want+" (Azure refused the request.)" {
		t.Errorf("failed create = %q %q", op.ErrorCode, op.ErrorMessage)
	}
}

// TestSubscriptionQuotaCountsAdmittedCreates: with 8 vCPUs in the
// subscription, thirty 2-vCPU creates at once: Azure counts a VM only once
// it accepted it, so the portal counts the creates it admitted before then.
// At most four are admitted, and they all run; the others are refused up
// front with the quota sentence, and none is left CreateFailed.
func TestSubscriptionQuotaCountsAdmittedCreates(t *testing.T) {
	dir := t.TempDir()
	p := testportal.OpenWith(t, dir, emulator.Options{
		Path: filepath.Join(dir, "emulator.json"), Latency: 0.1, Quota: map[string]map[string]int{"eastus": {"cores": 8}},
	})
	const n = 30
	type result struct {
		name string
		err  error
	}
	results := make(chan result, n)
	for i := range n {
		go func() {
			req := testportal.Request(fmt.Sprintf("quota-%c%c", 'a'+i/26, 'a'+i%26))
			req.VMSize = "Standard_DS2_v2"
			_, err := p.Service.CreateInstance(p.Ctx, req)
			results <- result{req.Name, err}
		}()
	}
	var admitted []string
	for range n {
		r := <-results
		if r.err == nil {
			admitted = append(admitted, r.name)
			continue
		}
		msg := instancehub.ErrorFields(r.err)["vm_size"]
		if !strings.HasPrefix(msg, "Total regional vCPUs: 2 vCPUs requested, but ") || !strings.HasSuffix(msg, " of the subscription's limit of 8 are in use in eastus.") {
			t.Errorf("%s: %v %q, want the quota sentence", r.name, r.err, msg)
		}
	}
	if len(admitted) == 0 || len(admitted) > 4 {
		t.Fatalf("%d creates admitted, want at most 4 (and some)", len(admitted))
	}
	t.Logf("admitted: %v", admitted)
	for _, name := range admitted {
		p.WaitState(t, name, instancehub.StateRunning)
	}
}

// TestLimitBelowUseAsksFirst: a workspace limit below what its instances
// hold is refused until the Owner confirms it, with the use and its holders
// named beside the field; nothing changes meanwhile. Confirmed, it is set;
// a limit at the use needs no confirmation.
func TestLimitBelowUseAsksFirst(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0)
	if _, err := p.Service.CreateInstance(p.Ctx, testportal.Request("held-box")); err != nil {
		t.Fatal(err)
	}
	p.WaitState(t, "held-box", instancehub.StateRunning)

	err := p.Service.SetWorkspaceLimit(p.Ctx, "eastus", "standardDSv2Family", 2, false)
	const want = "4 vCPUs of Standard DSv2 Family are in use in eastus (held-box), more than a limit of 2. Nothing running is stopped, but no instance of it can be created or started until use falls under the limit. Save anyway to set it."
	if instancehub.ErrorCode(err) != instancehub.ECONFLICT || instancehub.ErrorFields(err)["limit"] != want {
		t.Fatalf("below use: %v, want conflict on limit %q", err, want)
	}
	if err := p.Service.SetWorkspaceLimit(p.Ctx, "eastus", instancehub.TotalRegionalVCPUs, 0, false); !strings.HasPrefix(instancehub.ErrorFields(err)["limit"], "4 vCPUs of the regional total are in use in eastus (held-box)") {
		t.Errorf("the total below use: %v", err)
	}
	if q, _ := p.DB.WorkspaceQuota(p.Ctx, "eastus"); len(q.Limits) != 0 {
		t.Fatalf("limits set without confirmation: %v", q.Limits)
	}
	if err := p.Service.SetWorkspaceLimit(p.Ctx, "eastus", "standardDSv2Family", 4, false); err != nil {
		t.Errorf("a limit at the use: %v", err)
	}
	if err := p.Service.SetWorkspaceLimit(p.Ctx, "eastus", "standardDSv2Family", 2, true); err != nil {
		t.Fatalf("confirmed: %v", err)
	}
	if q, _ := p.DB.WorkspaceQuota(p.Ctx, "eastus"); q.Limits["standardDSv2Family"] != 2 {
		t.Errorf("limits = %v, want DSv2 at 2", q.Limits)
	}
	// The two refusals of one minute are one row counting two.
	log, _ := p.Service.AuditEvents(p.Ctx, instancehub.AuditFilter{Action: "quota.update"}, 1)
	if log.Total != 3 || log.Events[2].Count != 2 || log.Events[2].Result != instancehub.AuditFailed || log.Events[0].Target != "eastus/standardDSv2Family = 2 vCPUs" || log.Events[0].Result != instancehub.AuditSucceeded {
		t.Errorf("audited: %d rows, newest %+v", log.Total, log.Events[0])
	}
}
