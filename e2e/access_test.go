package e2e

import (
	"regexp"
	"testing"

	"github.com/mxschmitt/playwright-go"
)

// TestAccessControlJourney: an Owner gives a newcomer the Data Scientist
// role; she creates her own instance, sees no application links on anyone
// else's, and a forged request to stop another's instance comes back as a
// notice naming the missing permission. A Reader sees no action at all, and
// the audit log shows all of it.
func TestAccessControlJourney(t *testing.T) {
	p := startPortal(t)
	p.addUser(t, "dana@example.com", "Dana Scientist", "dana-password-1")
	p.addUser(t, "rita@example.com", "Rita Reader", "rita-password-1")
	p.assignRole(t, "rita@example.com", "Reader")

	admin := newPage(t)
	signIn(t, admin, p.URL, "admin@example.com", adminPassword)
	_, err := admin.Goto(p.URL + "/instances/new")
	must(t, err)
	must(t, admin.GetByLabel("Compute name").Fill("admin-box"))
	must(t, button(admin.Locator("body"), "Create").Click())
	must(t, admin.WaitForURL(p.URL+"/instances"))

	must(t, admin.GetByRole("link", playwright.PageGetByRoleOptions{Name: "Access control"}).Click())
	must(t, admin.WaitForURL(p.URL+"/access"))
	choose(t, admin.GetByLabel("User"), "dana@example.com")
	choose(t, admin.GetByLabel("Role", playwright.PageGetByLabelOptions{Exact: playwright.Bool(true)}).First(), "Data Scientist")
	must(t, button(admin.Locator("body"), "Add").Click())
	must(t, expect.Locator(admin.GetByTestId("toast").First()).ToContainText("dana@example.com now has the Data Scientist role"))
	must(t, expect.Locator(admin.Locator(`tr[data-email="dana@example.com"][data-role="Data Scientist"]`)).ToBeVisible())
	screenshot(t, admin, "access-control", false)

	dana := newPage(t)
	signIn(t, dana, p.URL, "dana@example.com", "dana-password-1")
	adminRow := dana.Locator(`tr[data-name="admin-box"]`)
	must(t, expect.Locator(adminRow).ToBeVisible())
	must(t, expect.Locator(adminRow.Locator(".apps")).ToHaveCount(0))
	must(t, expect.Locator(button(adminRow, "Stop")).ToHaveCount(0))
	_, err = dana.Goto(p.URL + "/instances/new")
	must(t, err)
	must(t, expect.Locator(dana.GetByLabel("Assign to another user")).ToHaveCount(0))
	must(t, dana.GetByLabel("Compute name").Fill("dana-box"))
	must(t, button(dana.Locator("body"), "Create").Click())
	must(t, dana.WaitForURL(p.URL+"/instances"))
	danaRow := dana.Locator(`tr[data-name="dana-box"]`)
	must(t, expect.Locator(danaRow.GetByTestId("state")).ToHaveText("Running", playwright.LocatorAssertionsToHaveTextOptions{Timeout: playwright.Float(45000)}))
	must(t, danaRow.GetByRole("link", playwright.LocatorGetByRoleOptions{Name: "dana-box"}).Click())
	must(t, dana.WaitForURL(p.URL+"/instances/dana-box"))
	apps := dana.Locator("#applications ~ .app-links")
	must(t, expect.Locator(apps.GetByRole("link", playwright.LocatorGetByRoleOptions{Name: "Jupyter", Exact: playwright.Bool(true)})).ToBeVisible())
	// Offline, RStudio does not run: the page says why instead of linking.
	must(t, expect.Locator(apps.GetByTestId("unavailable-rstudio")).ToContainText("not packaged by Debian"))
	must(t, expect.Locator(button(dana.GetByTestId("detail"), "Stop")).ToBeEnabled())

	// A forged request: the page never offers it, the server refuses it.
	_, err = dana.Evaluate(`htmx.ajax("POST", "/instances/admin-box/stop", {source: document.body, values: {from: "row"}})`)
	must(t, err)
	notice := dana.Locator(".toast-danger")
	must(t, expect.Locator(notice).ToContainText("You need the instances/manage permission to stop admin-box"))
	must(t, expect.Locator(notice).ToContainText("Compute Operator"))

	rita := newPage(t)
	signIn(t, rita, p.URL, "rita@example.com", "rita-password-1")
	must(t, expect.Locator(rita.Locator(`tr[data-name="dana-box"]`)).ToBeVisible())
	for _, name := range []string{"New", "Start", "Stop", "Restart", "Delete"} {
		must(t, expect.Locator(rita.GetByRole("button", playwright.PageGetByRoleOptions{Name: name, Exact: playwright.Bool(true)})).ToHaveCount(0))
	}
	_, err = rita.Goto(p.URL + "/instances/dana-box")
	must(t, err)
	must(t, expect.Locator(rita.GetByRole("toolbar", playwright.PageGetByRoleOptions{Name: "Actions on this instance"})).ToHaveCount(0))
	must(t, expect.Locator(rita.GetByRole("link", playwright.PageGetByRoleOptions{Name: "Audit log"})).ToHaveCount(0))

	_, err = admin.Goto(p.URL + "/audit")
	must(t, err)
	events := admin.GetByTestId("audit-events")
	must(t, expect.Locator(events.Locator(`tr[data-action="role.assign"]`).Filter(playwright.LocatorFilterOptions{HasText: "dana@example.com: Data Scientist"})).ToHaveCount(1))
	must(t, expect.Locator(events.Locator(`tr[data-action="instance.create"][data-result="succeeded"]`).Filter(playwright.LocatorFilterOptions{HasText: "dana-box"})).ToHaveCount(1))
	denied := events.Locator(`tr[data-action="instance.stop"][data-result="denied"]`)
	must(t, expect.Locator(denied).ToContainText("Dana Scientist"))
	must(t, expect.Locator(denied).ToContainText(regexp.MustCompile(`127\.0\.0\.1`)))
	screenshot(t, admin, "audit-log", false)

	// The filter narrows the log to refusals.
	choose(t, admin.GetByLabel("Result"), "denied")
	must(t, expect.Locator(events.Locator(`tr[data-result="succeeded"]`)).ToHaveCount(0))
	must(t, expect.Locator(events.Locator(`tr[data-result="denied"]`).First()).ToBeVisible())
}
