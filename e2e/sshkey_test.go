package e2e

import (
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
