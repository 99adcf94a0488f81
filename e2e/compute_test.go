package e2e

import (
	"regexp"
	"testing"

	"github.com/mxschmitt/playwright-go"
)

const sshKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHb8mN5o0H9GmWQ0jDmK5aS5cOl0pM3r3JQUgD0c0iYv ada@laptop"

// TestInstanceJourney is the tab end to end: sign in, create an instance
// with SSH in a chosen subnet, watch it reach Running without a reload, stop
// it, start it, read its details, delete it.
func TestInstanceJourney(t *testing.T) {
	p := startPortal(t)
	page := newPage(t)
	signIn(t, page, p.URL, "admin@example.com", adminPassword)
	body := page.Locator("body")

	must(t, expect.Locator(page.GetByTestId("empty-state")).ToBeVisible())
	must(t, expect.Locator(button(page.GetByTestId("empty-state"), "Create")).ToBeVisible())
	checkAccessibility(t, page, "empty list")
	must(t, button(body, "New").Click())
	must(t, page.WaitForURL(p.URL+"/instances/new"))
	// The keyboard starts in the form's first field.
	must(t, expect.Locator(page.GetByLabel("Compute name")).ToBeFocused())

	must(t, page.GetByLabel("Compute name").Fill("ada-ws"))
	must(t, expect.Locator(page.GetByTestId("name-message")).ToHaveText("This name is available."))
	choose(t, page.GetByLabel("Region"), "westeurope")
	// The sizes and networks follow the region.
	must(t, expect.Locator(page.GetByLabel("Virtual network")).ToContainText("vnet-westeurope"))
	sizes := page.GetByRole("group", playwright.PageGetByRoleOptions{Name: "Virtual machine size"})
	must(t, sizes.GetByRole("radio", playwright.LocatorGetByRoleOptions{Name: "Standard_D4s_v3"}).Check())
	must(t, page.GetByLabel("Enable SSH access").Check())
	must(t, page.GetByLabel("SSH public key").Fill(sshKey))
	choose(t, page.GetByLabel("Virtual network"), "vnet-westeurope")
	must(t, expect.Locator(page.GetByLabel("Subnet")).ToBeEnabled())
	choose(t, page.GetByLabel("Subnet"), "workstations")
	screenshot(t, page, "create-form", true)
	must(t, button(body, "Create").Click())

	must(t, page.WaitForURL(p.URL+"/instances"))
	// Mark the document: if the page reloaded, the mark would be gone.
	_, err := page.Evaluate(`window.__noReload = true`)
	must(t, err)
	row := page.Locator(`tr[data-name="ada-ws"]`)
	state := row.GetByTestId("state")
	must(t, expect.Locator(state).ToHaveText("Creating"))
	must(t, expect.Locator(page.GetByTestId("toast").First()).ToContainText("Creating ada-ws"))
	must(t, expect.Locator(state).ToHaveText("Running", playwright.LocatorAssertionsToHaveTextOptions{Timeout: playwright.Float(45000)}))
	stillThere, err := page.Evaluate(`window.__noReload === true`)
	must(t, err)
	if stillThere != true {
		t.Fatal("the page reloaded while the instance was created")
	}
	must(t, expect.Locator(row.GetByRole("link", playwright.LocatorGetByRoleOptions{Name: "JupyterLab"})).ToBeVisible())
	screenshot(t, page, "instances", false)

	must(t, button(row, "Stop").Click())
	must(t, expect.Locator(state).ToHaveText("Stopping"))
	must(t, expect.Locator(state).ToHaveText("Stopped", playwright.LocatorAssertionsToHaveTextOptions{Timeout: playwright.Float(30000)}))
	// Off, yet in the Tab order: aria-disabled, described by why.
	must(t, expect.Locator(button(row, "Stop")).ToHaveAttribute("aria-disabled", "true"))
	must(t, expect.Locator(button(row, "Stop")).ToHaveAttribute("aria-describedby", "why-stop-stopped"))
	must(t, button(row, "Start").Click())
	must(t, expect.Locator(state).ToHaveText("Starting"))
	must(t, expect.Locator(state).ToHaveText("Running", playwright.LocatorAssertionsToHaveTextOptions{Timeout: playwright.Float(30000)}))

	must(t, row.GetByRole("link", playwright.LocatorGetByRoleOptions{Name: "ada-ws"}).Click())
	must(t, page.WaitForURL(p.URL+"/instances/ada-ws"))
	detail := page.GetByTestId("detail")
	must(t, expect.Locator(detail.GetByTestId("state")).ToHaveText("Running"))
	must(t, expect.Locator(page.GetByTestId("ssh-command")).ToHaveText(regexp.MustCompile(`^ssh -p 22 azureuser@\d+\.\d+\.\d+\.\d+$`)))
	must(t, expect.Locator(page.GetByTestId("private-ip")).ToHaveText(regexp.MustCompile(`^10\.2\.1\.\d+$`)))
	must(t, expect.Locator(page.GetByTestId("operations").Locator("tbody tr")).ToHaveCount(3))
	screenshot(t, page, "details", true)

	// An Owner reads what the VM printed while it booted, and comes back.
	must(t, detail.GetByRole("link", playwright.LocatorGetByRoleOptions{Name: "Boot log", Exact: playwright.Bool(true)}).Click())
	must(t, page.WaitForURL(p.URL+"/instances/ada-ws/boot-log"))
	bootLog := page.GetByRole("region", playwright.PageGetByRoleOptions{Name: "Boot log of ada-ws"})
	must(t, expect.Locator(bootLog).ToContainText("ada-ws login:"))
	checkAccessibility(t, page, "boot log")
	must(t, page.GetByRole("navigation", playwright.PageGetByRoleOptions{Name: "Breadcrumb"}).GetByRole("link", playwright.LocatorGetByRoleOptions{Name: "ada-ws"}).Click())
	must(t, page.WaitForURL(p.URL+"/instances/ada-ws"))

	must(t, button(detail, "Delete").Click())
	dialog := page.GetByRole("dialog")
	must(t, expect.Locator(dialog).ToContainText("Delete ada-ws?"))
	checkAccessibility(t, page, "delete dialog")
	must(t, button(dialog, "Delete").Click())
	must(t, expect.Locator(detail.GetByTestId("state")).ToHaveText("Deleting"))
	// The focus stays on the page's title, not lost with the swapped button.
	must(t, expect.Locator(detail.Locator("h1")).ToBeFocused())
	_, err = page.Goto(p.URL + "/instances")
	must(t, err)
	must(t, expect.Locator(row).ToHaveCount(0, playwright.LocatorAssertionsToHaveCountOptions{Timeout: playwright.Float(30000)}))
}

// TestCreateFormMessages: a bad name and a bad key each get their message
// beside their field, and the form keeps what was typed.
func TestCreateFormMessages(t *testing.T) {
	p := startPortal(t)
	page := newPage(t)
	signIn(t, page, p.URL, "admin@example.com", adminPassword)
	_, err := page.Goto(p.URL + "/instances/new")
	must(t, err)

	name := page.GetByLabel("Compute name")
	must(t, name.Fill("gpu-12"))
	must(t, expect.Locator(page.GetByTestId("name-message")).ToContainText(`cannot end in "-12"`))
	must(t, name.Fill("bad_name"))
	must(t, expect.Locator(page.GetByTestId("name-message")).ToContainText("'_' is not allowed"))

	must(t, page.GetByLabel("Enable SSH access").Check())
	must(t, page.GetByLabel("SSH public key").Fill("ssh-rsa AAAAB3NzaC1yc2E"))
	must(t, button(page.Locator("body"), "Create").Click())

	must(t, expect.Locator(page.Locator("#name ~ [data-testid=name-message]")).ToContainText("'_' is not allowed"))
	must(t, expect.Locator(page.Locator("#ssh_public_key ~ [data-testid=ssh_public_key-error]")).ToContainText("not a valid OpenSSH public key"))
	must(t, expect.Locator(name).ToHaveValue("bad_name"))
	must(t, expect.Locator(page.GetByLabel("SSH public key")).ToHaveValue("ssh-rsa AAAAB3NzaC1yc2E"))
	must(t, expect.Locator(name).ToHaveAttribute("aria-invalid", "true"))
	screenshot(t, page, "create-errors", true)

	// Nothing was created.
	_, err = page.Goto(p.URL + "/instances")
	must(t, err)
	must(t, expect.Locator(page.GetByTestId("empty-state")).ToBeVisible())
}

// choose picks the option with value in a select.
func choose(t *testing.T, sel playwright.Locator, value string) {
	t.Helper()
	_, err := sel.SelectOption(playwright.SelectOptionValues{Values: &[]string{value}})
	must(t, err)
}

// TestCreatedByTheRealUser: an account added with `instancehub users add`
// signs in and creates an instance; another user sees who created it, no
// application links, and "Only mine" hides it from them.
func TestCreatedByTheRealUser(t *testing.T) {
	p := startPortal(t)
	p.addUser(t, "bob@example.com", "Bob Smith", "bob-password-123")
	p.assignRole(t, "bob@example.com", "Data Scientist")
	bob := newPage(t)
	signIn(t, bob, p.URL, "bob@example.com", "bob-password-123")
	_, err := bob.Goto(p.URL + "/instances/new")
	must(t, err)
	must(t, bob.GetByLabel("Compute name").Fill("bobs-box"))
	must(t, button(bob.Locator("body"), "Create").Click())
	must(t, bob.WaitForURL(p.URL+"/instances"))
	must(t, expect.Locator(bob.Locator(`tr[data-name="bobs-box"] td`).Nth(3)).ToHaveText("Bob Smith"))

	admin := newPage(t)
	signIn(t, admin, p.URL, "admin@example.com", adminPassword)
	row := admin.Locator(`tr[data-name="bobs-box"]`)
	must(t, expect.Locator(row.Locator("td").Nth(3)).ToHaveText("Bob Smith"))
	must(t, expect.Locator(row.GetByTestId("state")).ToHaveText("Running", playwright.LocatorAssertionsToHaveTextOptions{Timeout: playwright.Float(45000)}))
	must(t, expect.Locator(row.Locator(".apps")).ToHaveCount(0))
	must(t, admin.GetByLabel("Only mine").Check())
	must(t, expect.Locator(row).ToHaveCount(0))
	must(t, expect.Locator(admin.GetByTestId("no-matches")).ToBeVisible())
}
