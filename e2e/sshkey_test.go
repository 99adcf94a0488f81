package e2e

import (
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mxschmitt/playwright-go"
)

// TestSSHKeyLaterJourney: an Owner creates an instance for Dana with SSH on
// and the key left for later; Dana sees it in the list's Owner column,
// adds her key on its details page, and gets the SSH command.
func TestSSHKeyLaterJourney(t *testing.T) {
	p := startPortal(t, "--emulator-latency", "0.02")
	p.addUser(t, "dana@example.com", "Dana Data", "dana-password-1")
	p.assignRole(t, "dana@example.com", "Data Scientist")
	admin := newPage(t)
	signIn(t, admin, p.URL, "admin@example.com", adminPassword)
	_, err := admin.Goto(p.URL + "/instances/new")
	must(t, err)
	must(t, admin.GetByLabel("Compute name").Fill("dana-gpu"))
	choose(t, admin.GetByLabel("Assign to another user"), "dana@example.com")
	must(t, admin.GetByLabel("Enable SSH access").Check())
	must(t, admin.GetByLabel("Set up an SSH key later").Check())
	must(t, expect.Locator(admin.GetByLabel("SSH public key")).ToBeHidden())
	must(t, button(admin.Locator("body"), "Create").Click())
	must(t, admin.WaitForURL(p.URL+"/instances"))
	row := admin.Locator(`tr[data-name="dana-gpu"]`)
	must(t, expect.Locator(row.GetByTestId("owner")).ToHaveText("Dana Data"))

	dana := newPage(t)
	signIn(t, dana, p.URL, "dana@example.com", "dana-password-1")
	_, err = dana.Goto(p.URL + "/instances/dana-gpu")
	must(t, err)
	must(t, expect.Locator(dana.GetByTestId("state")).ToHaveText("Running", playwright.LocatorAssertionsToHaveTextOptions{Timeout: playwright.Float(30000)}))
	_, err = dana.Reload()
	must(t, err)
	key := dana.GetByLabel("Your SSH public key")
	must(t, key.Fill("ssh-rsa AAAA"))
	must(t, button(dana.Locator("main"), "Add key").Click())
	must(t, expect.Locator(dana.Locator("#add_ssh_public_key-error")).Not().ToBeEmpty())
	checkAccessibility(t, dana, "ssh key refused")
	must(t, dana.GetByLabel("Your SSH public key").Fill(sshKey))
	must(t, button(dana.Locator("main"), "Add key").Click())
	must(t, expect.Locator(dana.GetByTestId("ssh-command")).ToContainText("ssh -p 22 azureuser@"))
	must(t, expect.Locator(dana.GetByTestId("ssh-key")).ToContainText("ssh-ed25519"))
	screenshot(t, dana, "ssh-key-added", false)
}

// TestSSHKeyMadeInTheBrowser: "Generate a key pair" makes an Ed25519 pair in
// Chromium's WebCrypto, saves the private key as an OpenSSH file and puts the
// public key in the field. ssh-keygen reads both (the private key derives
// the same public key), the form accepts the key, and the private key is in
// no request the page sent.
func TestSSHKeyMadeInTheBrowser(t *testing.T) {
	p := startPortal(t, "--emulator-latency", "0.02")
	page := newPage(t)
	var sent []string
	page.On("request", func(r playwright.Request) {
		if body, err := r.PostData(); err == nil {
			sent = append(sent, r.URL()+" "+body)
		}
	})
	signIn(t, page, p.URL, "admin@example.com", adminPassword)
	_, err := page.Goto(p.URL + "/instances/new")
	must(t, err)
	must(t, page.GetByLabel("Compute name").Fill("keyed"))
	must(t, page.GetByLabel("Enable SSH access").Check())
	download, err := page.ExpectDownload(func() error { return button(page.Locator("main"), "Generate a key pair").Click() })
	must(t, err)
	must(t, expect.Locator(page.GetByTestId("keygen-status")).ToContainText("the portal never sees it"))
	dir := t.TempDir()
	private := filepath.Join(dir, download.SuggestedFilename())
	must(t, download.SaveAs(private))
	must(t, os.Chmod(private, 0o600))
	public, err := page.GetByLabel("SSH public key").InputValue()
	must(t, err)
	if !strings.HasPrefix(public, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA") {
		t.Fatalf("the field holds %q", public)
	}
	pubFile := filepath.Join(dir, "key.pub")
	must(t, os.WriteFile(pubFile, []byte(public+"\n"), 0o600))
	out, err := exec.Command("ssh-keygen", "-l", "-f", pubFile).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "(ED25519)") {
		t.Fatalf("ssh-keygen -l on the public key: %v\n%s", err, out)
	}
	out, err = exec.Command("ssh-keygen", "-y", "-f", private).CombinedOutput()
	if err != nil || strings.Fields(string(out))[1] != strings.Fields(public)[1] {
		t.Fatalf("ssh-keygen -y on the private key: %v\n%s\nthe field: %s", err, out, public)
	}
	privateKey, err := os.ReadFile(private)
	must(t, err)
	checkAccessibility(t, page, "key made")

	must(t, button(page.Locator("body"), "Create").Click())
	must(t, page.WaitForURL(p.URL+"/instances"))
	_, err = page.Goto(p.URL + "/instances/keyed")
	must(t, err)
	blob := strings.Fields(public)[1]
	must(t, expect.Locator(page.GetByTestId("ssh-key")).ToContainText(blob[len(blob)-8:]+" instancehub"))
	body := strings.Join(strings.Split(string(privateKey), "\n")[1:3], "")
	for _, r := range sent {
		if strings.Contains(r, body[:40]) || strings.Contains(r, url.QueryEscape(body[:40])) {
			t.Errorf("the private key left the browser: %s", r)
		}
	}
}
