package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/internal/testportal"
)

// TestSSHKeyLaterThroughThePages: the create form takes "Set up an SSH key
// later" for someone else's instance; its details page offers the key form
// to the owner alone; a bad key is refused next to the field; a good one
// shows with the SSH command.
func TestSSHKeyLaterThroughThePages(t *testing.T) {
	s := newSite(t, 0)
	s.EnsureUser(t, "dana@example.com", "Dana Data", instancehub.RoleDataScientist)
	s.signIn(t, "ada@example.com")
	form := s.get(t, "/instances/new")
	if form.doc.Find(`input#ssh_key_later[name="ssh_key_later"]`).Length() != 1 || text(form.doc.Find(`label[for="ssh_key_later"]`)) != "Set up an SSH key later" {
		t.Fatal("the create form has no Set up an SSH key later")
	}
	r := s.create(t, "for-dana", url.Values{"assign_to": {"dana@example.com"}, "ssh_enabled": {"on"}, "ssh_public_key": {testportal.SSHKey}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if msg := text(r.doc.Find("#ssh_public_key-error")); !strings.Contains(msg, "Set up an SSH key later") {
		t.Errorf("a creator's key: %q", msg)
	}
	wantStatus(t, s.create(t, "for-dana", url.Values{"assign_to": {"dana@example.com"}, "ssh_enabled": {"on"}, "ssh_key_later": {"on"}}), http.StatusSeeOther)
	s.waitRunning(t, "for-dana")

	page := s.get(t, "/instances/for-dana")
	if page.doc.Find(`[data-testid="ssh-key-form"]`).Length() != 0 || !strings.Contains(text(page.doc.Find(`[data-testid="ssh-key"]`)), "Dana Data adds their key") {
		t.Errorf("the creator's view of the key: %q", text(page.doc.Find(`[data-testid="ssh-key"]`)))
	}
	r = s.post(t, "/instances/for-dana/ssh-key", url.Values{"ssh_public_key": {testportal.SSHKey}})
	wantStatus(t, r, http.StatusForbidden)

	s.client = newClient()
	s.signIn(t, "dana@example.com")
	page = s.get(t, "/instances/for-dana")
	if page.doc.Find(`[data-testid="ssh-key-form"] textarea[name="ssh_public_key"]`).Length() != 1 {
		t.Fatal("the owner is offered no key form")
	}
	r = s.post(t, "/instances/for-dana/ssh-key", url.Values{"ssh_public_key": {"ssh-rsa AAAA"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if msg := text(r.doc.Find("#add_ssh_public_key-error")); msg == "" || text(r.doc.Find("#add_ssh_public_key")) != "ssh-rsa AAAA" {
		t.Errorf("a bad key: message %q, kept %q", msg, text(r.doc.Find("#add_ssh_public_key")))
	}
	wantStatus(t, s.post(t, "/instances/for-dana/ssh-key", url.Values{"ssh_public_key": {testportal.SSHKey}}), http.StatusSeeOther)
	page = s.get(t, "/instances/for-dana")
	if !strings.Contains(text(page.doc.Find(`[data-testid="ssh-key"]`)), "ssh-ed25519") || text(page.doc.Find(`[data-testid="ssh-command"]`)) == "" {
		t.Errorf("after adding: key %q, command %q", text(page.doc.Find(`[data-testid="ssh-key"]`)), text(page.doc.Find(`[data-testid="ssh-command"]`)))
	}
}

// TestApplyAfterTheKeyWasAdded: a file that leaves the SSH key for later
// still describes its instance once the owner added theirs: applying it
// again changes nothing and is no conflict.
func TestApplyAfterTheKeyWasAdded(t *testing.T) {
	s := newSite(t, 0)
	a := apiClient{s, newToken(t, s, "ada@example.com", instancehub.NewToken{})}
	file := "name: later-box\ntype: computeinstance\nsize: Standard_DS1_v2\nssh_public_access_enabled: true\n"
	wantStatus(t, a.call(t, "POST", "/api/v1/computes:apply", "application/yaml", file), http.StatusAccepted)
	s.WaitState(t, "later-box", instancehub.StateRunning)
	if _, err := s.Service.AddSSHKey(s.Ctx, "later-box", testportal.SSHKey); err != nil {
		t.Fatal(err)
	}
	r := a.call(t, "POST", "/api/v1/computes:apply", "application/yaml", file)
	wantStatus(t, r, http.StatusOK)
}
