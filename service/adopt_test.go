package service_test

import (
	"path/filepath"
	"testing"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/azure/emulator"
	"github.com/instancehub/instancehub/internal/testportal"
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
