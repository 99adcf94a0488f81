package web_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/instancehub/instancehub/internal/testportal"
)

// TestVSCodeDesktopLink: an instance with SSH on and its owner's key links
// to VS Code's Remote - SSH as vscode://vscode-remote/ssh-remote+USER@HOST:PORT/home/USER;
// one without a key, or without SSH, says what the link needs instead.
func TestVSCodeDesktopLink(t *testing.T) {
	s := newSite(t, 0)
	s.signIn(t, "ada@example.com")
	wantStatus(t, s.create(t, "keyed", url.Values{"ssh_enabled": {"on"}, "ssh_public_key": {testportal.SSHKey}}), 303)
	wantStatus(t, s.create(t, "no-ssh", nil), 303)
	inst := s.waitRunning(t, "keyed")
	s.waitRunning(t, "no-ssh")

	page := s.get(t, "/instances/keyed")
	link := page.doc.Find(`[data-testid="vscode-desktop"] a`)
	want := fmt.Sprintf("vscode://vscode-remote/ssh-remote+azureuser@%s:22/home/azureuser", inst.PublicIP)
	if inst.PublicIP == "" || link.AttrOr("href", "") != want || text(link) != "VS Code (Desktop)" {
		t.Errorf("the link: %q %q, want %q", text(link), link.AttrOr("href", ""), want)
	}
	if hint := text(page.doc.Find("#vscode-desktop-hint")); !strings.Contains(hint, "Remote - SSH extension") {
		t.Errorf("what the link needs: %q", hint)
	}
	if page.doc.Find(`[data-testid="vscode-web"] a`).Length() != 0 || !strings.Contains(text(page.doc.Find(`[data-testid="unavailable-vscode-web"]`)), "needs Node.js 24") {
		t.Errorf("VS Code (Web): %q", text(page.doc.Find(`[data-testid="vscode-web"]`)))
	}

	page = s.get(t, "/instances/no-ssh")
	if page.doc.Find(`[data-testid="vscode-desktop"] a`).Length() != 0 || !strings.Contains(text(page.doc.Find("#vscode-desktop-hint")), "SSH, which is off") {
		t.Errorf("without SSH: %q", text(page.doc.Find(`[data-testid="vscode-desktop"]`)))
	}
}
