package service_test

import (
	"strings"
	"testing"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/internal/testportal"
)

// TestSSHKeyLater: an Owner creates an instance for a Data Scientist with
// SSH on and the key left for later (a key of the Owner's own is refused);
// once it runs, its owner and only its owner adds their key, which Azure
// (the emulator's VM access) applies and the portal records.
func TestSSHKeyLater(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0)
	dana := p.EnsureUser(t, "dana@example.com", "Dana Data", instancehub.RoleDataScientist)
	withKey := testportal.Request("for-dana")
	withKey.AssignTo, withKey.SSHEnabled, withKey.SSHPublicKey = dana.Email, true, testportal.SSHKey
	_, err := p.Service.CreateInstance(p.Ctx, withKey)
	if msg := instancehub.ErrorFields(err)["ssh_public_key"]; !strings.Contains(msg, "Set up an SSH key later") {
		t.Fatalf("a creator's key on another's instance: %v", err)
	}
	later := withKey
	later.SSHPublicKey, later.SSHKeyLater = "", true
	inst, err := p.Service.CreateInstance(p.Ctx, later)
	if err != nil {
		t.Fatal(err)
	}
	if !inst.SSHEnabled || inst.SSHPublicKey != "" || inst.OwnerID != dana.ID {
		t.Fatalf("created %+v", inst)
	}
	p.WaitState(t, "for-dana", instancehub.StateRunning)

	danaCtx := p.As(dana)
	d, err := p.Service.InstanceDetail(danaCtx, "for-dana")
	if err != nil || !d.Access.AddSSHKey {
		t.Fatalf("the owner may not add a key: %+v %v", d.Access, err)
	}
	if d, _ := p.Service.InstanceDetail(p.Ctx, "for-dana"); d.Access.AddSSHKey {
		t.Error("the workspace's Owner is offered to add a key to Dana's instance")
	}
	if _, err := p.Service.AddSSHKey(p.Ctx, "for-dana", testportal.SSHKey); instancehub.ErrorCode(err) != instancehub.EFORBIDDEN {
		t.Errorf("the workspace's Owner adds a key to Dana's instance: %v", err)
	}
	if _, err := p.Service.AddSSHKey(danaCtx, "for-dana", "ssh-rsa AAAA"); instancehub.ErrorCode(err) != instancehub.EINVALID {
		t.Errorf("a bad key: %v", err)
	}
	if keys := p.Emu.AccessKeys("for-dana"); len(keys) != 0 {
		t.Fatalf("refused keys reached Azure: %v", keys)
	}
	got, err := p.Service.AddSSHKey(danaCtx, "for-dana", testportal.SSHKey)
	if err != nil {
		t.Fatal(err)
	}
	if got.SSHPublicKey != testportal.SSHKey || !strings.HasPrefix(got.SSHCommand(), "ssh -p 22 azureuser@") {
		t.Errorf("after adding: key %q, command %q", got.SSHPublicKey, got.SSHCommand())
	}
	if keys := p.Emu.AccessKeys("for-dana"); len(keys) != 1 || keys[0] != testportal.SSHKey {
		t.Errorf("the VM's added keys: %v", keys)
	}
	if stored, _ := p.DB.FindInstanceByName(p.Ctx, "for-dana"); stored.SSHPublicKey != testportal.SSHKey {
		t.Errorf("stored key %q", stored.SSHPublicKey)
	}
	// A replaced key stops working: the VM keeps the new one alone.
	newKey := "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOHm3zDbTJmSWLYYMb4rGRjMEjlCv5CmGZRS9VqdNYQo dana@new-laptop"
	if _, err := p.Service.AddSSHKey(danaCtx, "for-dana", newKey); err != nil {
		t.Fatal(err)
	}
	if keys := p.Emu.AccessKeys("for-dana"); len(keys) != 1 || keys[0] != newKey {
		t.Errorf("after replacing: the VM's keys %v", keys)
	}

	// A stopped instance, and one without SSH, take no key.
	if _, err := p.Service.Act(danaCtx, "for-dana", instancehub.OpStop); err != nil {
		t.Fatal(err)
	}
	p.WaitState(t, "for-dana", instancehub.StateStopped)
	if _, err := p.Service.AddSSHKey(danaCtx, "for-dana", testportal.SSHKey); instancehub.ErrorCode(err) != instancehub.ECONFLICT {
		t.Errorf("a stopped instance: %v", err)
	}
	p.SeedNamed(t, "no-ssh", dana)
	if _, err := p.Service.AddSSHKey(danaCtx, "no-ssh", testportal.SSHKey); instancehub.ErrorCode(err) != instancehub.ECONFLICT {
		t.Errorf("an instance without SSH: %v", err)
	}
	events, _ := p.Service.AuditEvents(p.Ctx, instancehub.AuditFilter{Action: "instance.sshKey"}, 1)
	added := 0
	for _, e := range events.Events {
		added += e.Count
	}
	if added != 6 || events.Total >= 6 {
		t.Errorf("audited key additions: %d in %d rows, want 6 (two done, four refused, the refusals of a minute tallied)", added, events.Total)
	}
}
