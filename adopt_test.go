package instancehub_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v8"
	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/azure"
	"github.com/instancehub/instancehub/azure/emulator"
	"github.com/instancehub/instancehub/backup"
	"github.com/instancehub/instancehub/internal/promtest"
	"github.com/instancehub/instancehub/internal/testportal"
	"github.com/instancehub/instancehub/metrics"
)

// TestAdoptVMs loses a portal's database and rebuilds its instances from
// the VMs through a new one: each goes to the account of its owner tag when
// there is one, else to the first Owner, and is recorded as Azure has it.
func TestAdoptVMs(t *testing.T) {
	dir := t.TempDir()
	old := testportal.Open(t, dir, 0)
	bob := old.EnsureUser(t, "bob@example.com", "Bob", instancehub.RoleDataScientist)
	carol := old.EnsureUser(t, "carol@example.com", "Carol", instancehub.RoleDataScientist)
	withSSH := testportal.Request("ada-box")
	withSSH.SSHEnabled, withSSH.SSHPublicKey = true, testportal.SSHKey
	for user, req := range map[*instancehub.User]instancehub.CreateRequest{
		old.User: withSSH, bob: testportal.Request("bob-box"), carol: testportal.Request("carol-box"),
	} {
		if _, err := old.Service.CreateInstance(old.As(user), req); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]*instancehub.Instance{}
	for _, name := range []string{"ada-box", "bob-box", "carol-box"} {
		want[name] = old.WaitState(t, name, instancehub.StateRunning)
	}
	if _, err := old.Service.Act(old.As(bob), "bob-box", instancehub.OpStop); err != nil {
		t.Fatal(err)
	}
	want["bob-box"] = old.WaitState(t, "bob-box", instancehub.StateStopped)
	old.Close()

	// A new database over the same cloud, in which Carol has no account.
	p := testportal.OpenWith(t, t.TempDir(), emulator.Options{Path: filepath.Join(dir, "emulator.db")})
	newBob := p.EnsureUser(t, "bob@example.com", "Bob", instancehub.RoleDataScientist)
	adopted, err := p.Service.AdoptVMs(p.Ctx)
	if err != nil || len(adopted) != 3 {
		t.Fatalf("adopted %d instances, %v", len(adopted), err)
	}
	owners := map[string]int64{"ada-box": p.User.ID, "bob-box": newBob.ID, "carol-box": p.User.ID}
	for name, w := range want {
		got, err := p.DB.FindInstanceByName(p.Ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if got.OwnerID != owners[name] || got.LastOperation != nil {
			t.Errorf("%s: owner %d, operation %+v; want owner %d and no operation", name, got.OwnerID, got.LastOperation, owners[name])
		}
		type fields struct {
			Region, VMSize, Family, Key, Network, Subnet, PrivateIP, PublicIP, Image string
			VCPUs, Port                                                              int
			SSH                                                                      bool
			State                                                                    instancehub.State
		}
		of := func(i *instancehub.Instance) fields {
			return fields{i.Region, i.VMSize, i.Family, i.SSHPublicKey, i.VirtualNetwork, i.Subnet, i.PrivateIP, i.PublicIP, i.Image,
				i.VCPUs, i.SSHPort, i.SSHEnabled, i.State}
		}
		if of(got) != of(w) {
			t.Errorf("%s adopted as\n %+v\nwas\n %+v", name, of(got), of(w))
		}
	}
	audit, _, err := p.DB.FindAuditEvents(p.Ctx, instancehub.AuditFilter{Action: "instance.adopt"})
	if err != nil || len(audit) != 3 {
		t.Errorf("audit: %d events, %v", len(audit), err)
	}
	if again, err := p.Service.AdoptVMs(p.Ctx); err != nil || len(again) != 0 {
		t.Errorf("a second adoption adopted %d, %v", len(again), err)
	}
}

// TestSyncAdoptsWhatNoRecordNames: a portal restored from a backup knows
// nothing of the instances made since, whose VMs run on. Its sync adopts
// each VM of the portal no record names, once: to the owner its tag names
// when that account exists, else to the first Owner, audited, and told to
// the Owners; not one that is being deleted. A VM of another portal in the resource group is left alone,
// and never read one by one; what the backup held is not doubled.
func TestSyncAdoptsWhatNoRecordNames(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	p := testportal.Open(t, dir, 0)
	p.RunningInstances(t, "kept-box")
	taken := filepath.Join(t.TempDir(), "backup.tar.gz")
	if _, err := backup.Take(ctx, dir, taken, time.Now()); err != nil {
		t.Fatal(err)
	}
	grace := p.EnsureUser(t, "grace@example.com", "Grace Hopper", instancehub.RoleDataScientist)
	for _, c := range []struct {
		user *instancehub.User
		name string
	}{{p.User, "ada-new"}, {grace, "grace-box"}, {p.User, "dying-box"}} {
		user, name := c.user, c.name
		if _, err := p.Service.CreateInstance(p.As(user), testportal.Request(name)); err != nil {
			t.Fatal(err)
		}
		p.WaitState(t, name, instancehub.StateRunning)
	}
	otherPortalsVM(t, p, "not-ours")
	p.Close()
	if _, err := backup.Restore(ctx, taken, dir, nil, time.Now()); err != nil {
		t.Fatal(err)
	}

	// Its VMs keep Azure's times now: a deletion takes seconds.
	q := testportal.OpenWith(t, dir, emulator.Options{Path: filepath.Join(dir, "emulator.db"), Latency: 1})
	vms, err := armcompute.NewVirtualMachinesClient(q.Emu.SubscriptionID(), q.Emu.Credential(), q.Emu.ClientOptions())
	if err != nil {
		t.Fatal(err)
	}
	dying, err := vms.BeginDelete(ctx, q.Emu.ResourceGroup(), "dying-box", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.DB.FindInstanceByName(ctx, "ada-new"); instancehub.ErrorCode(err) != instancehub.ENOTFOUND {
		t.Fatalf("the restored database knows ada-new: %v", err)
	}
	reads := q.Emu.CallsTo("VirtualMachinesClient.Get")
	figures := metrics.New(metrics.Options{Replica: "a"})
	engine := &instancehub.Engine{Instances: q.DB, Cloud: q.Cloud, Logger: q.Engine.Logger, Adopter: q.Service, Metrics: figures}
	report, err := engine.Sync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n := promtest.Scrape(t, figures.Handler()).Sum("instancehub_sync_drift_total", map[string]string{"found": "adopted"}); n != 2 {
		t.Errorf("instancehub_sync_drift_total{found=adopted} = %v, want 2", n)
	}
	if report.Adopted != 2 || report.Checked != 1 {
		t.Errorf("report %+v; want 1 checked, 2 adopted", report)
	}
	if n := q.Emu.CallsTo("VirtualMachinesClient.Get") - reads; n < 2 || n > 3 {
		t.Errorf("the sync read %d VMs one by one; want the 2 it adopted and the one being deleted at most, not the other portal's", n)
	}
	for name, owner := range map[string]string{"ada-new": "ada@example.com", "grace-box": "ada@example.com", "kept-box": "ada@example.com"} {
		inst, err := q.DB.FindInstanceByName(ctx, name)
		if err != nil || inst.State != instancehub.StateRunning || inst.OwnerEmail != owner {
			t.Errorf("%s after the sync: %+v, %v; want Running, owned by %s", name, inst, err, owner)
		}
	}
	for _, name := range []string{"not-ours", "dying-box"} {
		if _, err := q.DB.FindInstanceByName(ctx, name); instancehub.ErrorCode(err) != instancehub.ENOTFOUND {
			t.Errorf("%s was adopted: %v", name, err)
		}
	}
	events, _, err := q.DB.FindAuditEvents(ctx, instancehub.AuditFilter{Action: "instance.adopt"})
	if err != nil || len(events) != 2 {
		t.Fatalf("audit: %d events, %v", len(events), err)
	}
	for _, e := range events {
		if e.Result != instancehub.AuditSucceeded || !strings.Contains(e.Target, "no record named it") {
			t.Errorf("audit event %+v", e)
		}
	}
	notices, err := q.Service.TakeNotices(q.Ctx)
	if err != nil || len(notices) != 1 || !strings.Contains(notices[0], "adopted 2 instances") ||
		!strings.Contains(notices[0], "ada-new") || !strings.Contains(notices[0], "grace-box") {
		t.Errorf("the Owner's notices: %q, %v", notices, err)
	}

	for !dying.Done() { // Poll, not PollUntilDone, which waits as long as ARM's Retry-After says
		if _, err := dying.Poll(ctx); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	reads = q.Emu.CallsTo("VirtualMachinesClient.Get")
	report, err = q.Engine.SyncNow(ctx)
	if err != nil || report.Adopted != 0 || report.Checked != 3 {
		t.Errorf("the next sync: %+v, %v; want 3 checked, none adopted", report, err)
	}
	if n := q.Emu.CallsTo("VirtualMachinesClient.Get") - reads; n != 0 {
		t.Errorf("the next sync read %d VMs one by one; the portal knows every VM of its own, and leaves the other portal's", n)
	}
	page, err := q.Service.ListInstances(q.Ctx, instancehub.ListQuery{})
	if err != nil || page.Total != 3 {
		t.Errorf("the list holds %d instances, %v; want 3, none doubled", page.Total, err)
	}
	if adopted, err := q.Service.AdoptUnrecorded(ctx, []string{"kept-box", "not-ours"}); len(adopted) != 0 || err != nil {
		t.Errorf("adopting a recorded instance and another portal's VM: %v, %v", adopted, err)
	}
}

// otherPortalsVM makes a VM in the resource group as another portal
// (another --azure-portal-id) would, with its own tag.
func otherPortalsVM(t *testing.T, p *testportal.Portal, name string) {
	t.Helper()
	other, err := azure.New(azure.Config{
		SubscriptionID: p.Emu.SubscriptionID(), ResourceGroup: p.Emu.ResourceGroup(), Regions: p.Emu.Regions(),
		PortalID: "another-portal", SSHSourceRange: "Internet", AppSourceRange: "10.0.0.0/8",
	}, p.Emu.Credential(), p.Emu.ClientOptions())
	if err != nil {
		t.Fatal(err)
	}
	inst := &instancehub.Instance{
		Name: name, Region: "eastus", VMSize: "Standard_DS3_v2", Family: "standardDSv2Family", VCPUs: 4, MemoryGiB: 14,
		SSHPort: 22, VirtualNetwork: "vnet-eastus", Subnet: "default", OwnerEmail: "someone@example.com",
		AppSecret: "another-portals-secret-0123456789abcdefghijklmnop",
	}
	for _, step := range other.Steps(instancehub.OpCreate, inst) {
		token, err := other.BeginStep(p.Ctx, instancehub.OpCreate, step, inst)
		for err == nil && token != "" {
			var done bool
			if done, err = other.PollStep(p.Ctx, instancehub.OpCreate, step, inst, token); done {
				break
			}
		}
		if err != nil {
			t.Fatalf("another portal's VM %s: %v", name, err)
		}
	}
}
