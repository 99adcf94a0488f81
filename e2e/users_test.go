package e2e

import (
	"testing"

	"github.com/mxschmitt/playwright-go"
)

// TestAddUserJourney: an Owner adds someone from the access control page
// and passes on the link; the newcomer sets a password with it and signs
// in with their role; the link works once.
func TestAddUserJourney(t *testing.T) {
	p := startPortal(t)
	admin := newPage(t)
	signIn(t, admin, p.URL, "admin@example.com", adminPassword)
	_, err := admin.Goto(p.URL + "/access")
	must(t, err)
	must(t, admin.GetByRole("button", playwright.PageGetByRoleOptions{Name: "Add user", Exact: playwright.Bool(true)}).Click())
	must(t, admin.WaitForURL(p.URL+"/access/users/new"))
	must(t, expect.Locator(admin.GetByLabel("Email")).ToBeFocused())
	must(t, admin.GetByLabel("Email").Fill("nora@example.com"))
	must(t, admin.GetByLabel("Name").Fill("Nora New"))
	choose(t, admin.GetByLabel("Role"), "Data Scientist")
	must(t, button(admin.Locator("main"), "Add user").Click())
	link := admin.GetByTestId("password-link")
	must(t, expect.Locator(link).ToContainText("/set-password?token="))
	checkAccessibility(t, admin, "user added")
	address, err := link.TextContent()
	must(t, err)

	nora := newPage(t)
	_, err = nora.Goto(address)
	must(t, err)
	checkAccessibility(t, nora, "set password")
	must(t, nora.GetByLabel("New password").Fill("nora-password-1"))
	must(t, nora.GetByLabel("Repeat the password").Fill("nora-password-1"))
	must(t, button(nora.Locator("body"), "Set password").Click())
	must(t, nora.WaitForURL(p.URL+"/login"))
	signIn(t, nora, p.URL, "nora@example.com", "nora-password-1")
	must(t, expect.Locator(nora.GetByTestId("new-instance")).ToBeVisible()) // a Data Scientist may create

	again := newPage(t)
	_, err = again.Goto(address)
	must(t, err)
	must(t, expect.Locator(again.GetByTestId("link-error")).ToContainText("used already"))

	// The Owner disables Nora from the Users tab, which asks first and
	// says that her tokens stay revoked: her page sends her to sign in,
	// which tells her why.
	_, err = admin.Goto(p.URL + "/access")
	must(t, err)
	must(t, admin.GetByRole("link", playwright.PageGetByRoleOptions{Name: "Users", Exact: playwright.Bool(true)}).Click())
	must(t, admin.WaitForURL(p.URL+"/access/people"))
	checkAccessibility(t, admin, "users")
	must(t, admin.GetByRole("button", playwright.PageGetByRoleOptions{Name: "Disable Nora New"}).Click())
	dialog := admin.GetByRole("dialog")
	must(t, expect.Locator(dialog).ToContainText("Disable Nora New?"))
	must(t, expect.Locator(dialog).ToContainText("tokens are revoked and stay revoked"))
	checkAccessibility(t, admin, "disable dialog")
	must(t, button(dialog, "Disable").Click())
	must(t, expect.Locator(admin.Locator(`tr[data-email="nora@example.com"] [data-testid="status"]`)).ToHaveText("Disabled"))
	_, err = nora.Reload()
	must(t, err)
	must(t, nora.WaitForURL("**/login**"))
	must(t, expect.Locator(nora.Locator(".toast")).ToContainText("your access changed"))
}
