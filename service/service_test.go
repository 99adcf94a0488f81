package service_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/internal/testportal"
)

func TestCreateValidation(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0)
	if _, err := p.Service.CreateInstance(p.Ctx, testportal.Request("taken-name")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		desc   string
		change func(*instancehub.CreateRequest)
		fields map[string]string // field -> part of its message
	}{
		{"bad name", func(r *instancehub.CreateRequest) { r.Name = "9lives" }, map[string]string{"name": "start with a letter"}},
		{"taken name, other case", func(r *instancehub.CreateRequest) { r.Name = "Taken-Name" }, map[string]string{"name": "already exists"}},
		{"unknown region", func(r *instancehub.CreateRequest) { r.Region = "marsnorth" }, map[string]string{"region": "Choose one of the regions"}},
		{"no size", func(r *instancehub.CreateRequest) { r.VMSize = "" }, map[string]string{"vm_size": "Choose a virtual machine size"}},
		{"unknown size", func(r *instancehub.CreateRequest) { r.VMSize = "Standard_Z99" }, map[string]string{"vm_size": "not offered in this region"}},
		{"size without quota", func(r *instancehub.CreateRequest) { r.VMSize = "Standard_NC24ads_A100_v4" }, map[string]string{"vm_size": "No quota for Standard NCADSA100v4 Family"}},
		{"ssh without key", func(r *instancehub.CreateRequest) { r.SSHEnabled = true }, map[string]string{"ssh_public_key": "Paste your SSH public key"}},
		{"ssh with bad key", func(r *instancehub.CreateRequest) { r.SSHEnabled, r.SSHPublicKey = true, "ssh-rsa AAAA" }, map[string]string{"ssh_public_key": "not a valid"}},
		{"ssh with an ecdsa key, which Azure refuses", func(r *instancehub.CreateRequest) {
			r.SSHEnabled, r.SSHPublicKey = true, "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBDLfUExpukQ0t9RA+whWXKDnzeZ19k03urQdr4uoEthjcikBrDZf8mB/n6SN0ri1qyYJB6wCVZA5jYUHVCbn2zE= eve@laptop"
		}, map[string]string{"ssh_public_key": "Azure does not accept ECDSA keys"}},
		{"unknown network", func(r *instancehub.CreateRequest) { r.VirtualNetwork = "vnet-nowhere" }, map[string]string{"virtual_network": "no virtual network vnet-nowhere"}},
		{"network without subnet", func(r *instancehub.CreateRequest) { r.VirtualNetwork = "vnet-eastus" }, map[string]string{"subnet": "Choose a subnet"}},
		{"unknown subnet", func(r *instancehub.CreateRequest) { r.VirtualNetwork, r.Subnet = "vnet-eastus", "nope" }, map[string]string{"subnet": "has no subnet nope"}},
		{"everything wrong at once", func(r *instancehub.CreateRequest) {
			r.Name, r.VMSize, r.SSHEnabled = "a", "Standard_Z99", true
		}, map[string]string{"name": "at least 3", "vm_size": "not offered", "ssh_public_key": "Paste"}},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			req := testportal.Request("fresh-name")
			tt.change(&req)
			_, err := p.Service.CreateInstance(p.Ctx, req)
			if instancehub.ErrorCode(err) != instancehub.EINVALID {
				t.Fatalf("err = %v, want invalid", err)
			}
			fields := instancehub.ErrorFields(err)
			if len(fields) != len(tt.fields) {
				t.Errorf("fields = %v, want exactly %v", fields, tt.fields)
			}
			for field, want := range tt.fields {
				if !strings.Contains(fields[field], want) {
					t.Errorf("%s: %q, want it to contain %q", field, fields[field], want)
				}
			}
		})
	}
	// Nothing was recorded by the rejected forms.
	page, err := p.Service.ListInstances(p.Ctx, instancehub.ListQuery{})
	if err != nil || page.Total != 1 {
		t.Fatalf("instances after rejected forms = %d, %v; want only taken-name", page.Total, err)
	}
}

func TestCreateChoosesNetwork(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0)
	req := testportal.Request("in-subnet")
	req.VirtualNetwork, req.Subnet = "vnet-eastus", "workstations"
	if _, err := p.Service.CreateInstance(p.Ctx, req); err != nil {
		t.Fatal(err)
	}
	inst := p.WaitState(t, "in-subnet", instancehub.StateRunning)
	if inst.VirtualNetwork != "vnet-eastus" || inst.Subnet != "workstations" || !strings.HasPrefix(inst.PrivateIP, "10.1.1.") {
		t.Errorf("placed in %s/%s at %s, want vnet-eastus/workstations at 10.1.1.x", inst.VirtualNetwork, inst.Subnet, inst.PrivateIP)
	}
	if _, err := p.Service.CreateInstance(p.Ctx, testportal.Request("by-default")); err != nil {
		t.Fatal(err)
	}
	inst = p.WaitState(t, "by-default", instancehub.StateRunning)
	if inst.VirtualNetwork != "instancehub-eastus" || inst.Subnet != "workstations" || !strings.HasPrefix(inst.PrivateIP, "10.200.0.") {
		t.Errorf("default placement %s/%s at %s, want the portal's own network, instancehub-eastus/workstations at 10.200.0.x", inst.VirtualNetwork, inst.Subnet, inst.PrivateIP)
	}
}

// TestCreateMakesAppSecret: each instance gets its own upstream secret at
// create, stored with it, for the applications on its VM to accept only
// the portal.
func TestCreateMakesAppSecret(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0)
	for _, name := range []string{"secret-one", "secret-two"} {
		if _, err := p.Service.CreateInstance(p.Ctx, testportal.Request(name)); err != nil {
			t.Fatal(err)
		}
	}
	one, two := p.WaitState(t, "secret-one", instancehub.StateRunning), p.WaitState(t, "secret-two", instancehub.StateRunning)
	if len(one.AppSecret) < 43 || one.AppSecret == two.AppSecret {
		t.Errorf("secrets %q and %q, want 256 random bits each", one.AppSecret, two.AppSecret)
	}
}

// TestConcurrentActions has many users press Stop on one instance at once:
// exactly one operation starts, the others are told the state changed.
func TestConcurrentActions(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0.05)
	if _, err := p.Service.CreateInstance(p.Ctx, testportal.Request("contended")); err != nil {
		t.Fatal(err)
	}
	p.WaitState(t, "contended", instancehub.StateRunning)
	var wg sync.WaitGroup
	errs := make([]error, 20)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = p.Service.Act(p.Ctx, "contended", instancehub.OpStop)
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case instancehub.ErrorCode(err) != instancehub.ECONFLICT:
			t.Errorf("err = %v, want conflict", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d stops started, want exactly 1", ok)
	}
	p.WaitState(t, "contended", instancehub.StateStopped)
}

func TestApplicationsOwnerOnly(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0)
	if _, err := p.Service.CreateInstance(p.Ctx, testportal.Request("adas-box")); err != nil {
		t.Fatal(err)
	}
	p.WaitState(t, "adas-box", instancehub.StateRunning)
	if _, app, err := p.Service.OpenApplication(p.Ctx, "adas-box", "jupyterlab"); err != nil || app.Label != "JupyterLab" {
		t.Fatalf("owner: %v, %v", app, err)
	}
	// Even an Owner of the workspace may not open another user's applications.
	bob := p.EnsureUser(t, "bob@example.com", "Bob", instancehub.RoleOwner)
	bobCtx := p.As(bob)
	_, _, err := p.Service.OpenApplication(bobCtx, "adas-box", "jupyterlab")
	if instancehub.ErrorCode(err) != instancehub.EFORBIDDEN || !strings.Contains(instancehub.ErrorMessage(err), "Only the owner") {
		t.Errorf("another user: err = %v, want forbidden", err)
	}
	if _, _, err := p.Service.OpenApplication(p.Ctx, "adas-box", "emacs"); instancehub.ErrorCode(err) != instancehub.ENOTFOUND {
		t.Errorf("unknown application: err = %v, want not found", err)
	}
}

// A read that fails after the engine accepted an operation (the database
// blinked) never answers the person with an error: the operation goes on,
// and asking again would only be refused as a conflict.
func TestAnAcceptedActionIsNeverAnsweredWithAReadError(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0)
	if _, err := p.Service.CreateInstance(p.Ctx, testportal.Request("blinky")); err != nil {
		t.Fatal(err)
	}
	p.WaitState(t, "blinky", instancehub.StateRunning)
	p.Service.Instances = blinkingReads{p.Service.Instances}
	inst, err := p.Service.Act(p.Ctx, "blinky", instancehub.OpStop)
	if err != nil {
		t.Fatalf("Act = %v, want the accepted operation", err)
	}
	if inst.State != instancehub.StateStopping || inst.LastOperation == nil || inst.LastOperation.Kind != instancehub.OpStop {
		t.Errorf("answered %s with operation %+v, want Stopping with the Stop", inst.State, inst.LastOperation)
	}
	p.WaitState(t, "blinky", instancehub.StateStopped)
}

// blinkingReads is a store whose reads by ID fail, as during a blink.
type blinkingReads struct{ instancehub.InstanceStore }

func (blinkingReads) FindInstanceByID(context.Context, int64) (*instancehub.Instance, error) {
	return nil, errors.New("disk I/O error (8714)")
}

// The audit event of an action outlasts a database blink: a write the
// database fails for its own reasons is tried again, and the event is
// kept; a refusal of the store is not tried again.
func TestAnAuditEventOutlastsABlink(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0)
	blinking := &blinkingAudit{AuditStore: p.Service.Audit, failures: 2}
	p.Service.Audit = blinking
	if _, err := p.Service.CreateInstance(p.Ctx, testportal.Request("audited")); err != nil {
		t.Fatal(err)
	}
	events, _, err := p.DB.FindAuditEvents(p.Ctx, instancehub.AuditFilter{Action: "instance.create", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 || events[0].Target != "audited" {
		t.Errorf("the log holds %d create events after a blink of two writes, want the one", len(events))
	}
	if blinking.calls != 3 {
		t.Errorf("%d writes, want 3: two failed, one kept", blinking.calls)
	}

	refusing := &blinkingAudit{AuditStore: p.DB, failures: 1, refusal: true}
	p.Service.Audit = refusing
	if _, err := p.Service.CreateInstance(p.Ctx, testportal.Request("refused")); err != nil {
		t.Fatal(err)
	}
	if refusing.calls != 1 {
		t.Errorf("a refusal of the store was written %d times, want once", refusing.calls)
	}
}

// blinkingAudit fails the first writes of the audit log.
type blinkingAudit struct {
	instancehub.AuditStore
	mu       sync.Mutex
	failures int
	refusal  bool
	calls    int
}

func (b *blinkingAudit) RecordAudit(ctx context.Context, e *instancehub.AuditEvent) error {
	b.mu.Lock()
	b.calls++
	fail := b.calls <= b.failures
	b.mu.Unlock()
	switch {
	case fail && b.refusal:
		return instancehub.Errorf(instancehub.EINVALID, "The event is too long.")
	case fail:
		return errors.New("database is locked (5) (SQLITE_BUSY)")
	}
	return b.AuditStore.RecordAudit(ctx, e)
}
