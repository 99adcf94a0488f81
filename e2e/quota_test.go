package e2e

import (
	"testing"

	"github.com/mxschmitt/playwright-go"
)

// TestQuotaJourney: an Owner lowers a family's workspace limit; a Data
// Scientist sees the sizes that no longer fit disabled with the reason,
// creates what fits, and the quota page follows the create and the stop.
func TestQuotaJourney(t *testing.T) {
	p := startPortal(t)
	p.addUser(t, "dana@example.com", "Dana Scientist", "dana-password-1")
	p.assignRole(t, "dana@example.com", "Data Scientist")

	admin := newPage(t)
	signIn(t, admin, p.URL, "admin@example.com", adminPassword)
	must(t, admin.GetByRole("link", playwright.PageGetByRoleOptions{Name: "Quota"}).Click())
	must(t, admin.WaitForURL(p.URL+"/quota"))
	row := admin.Locator(`tr[data-family="standardDSv2Family"]`)
	must(t, expect.Locator(row).ToHaveAttribute("data-used", "0"))
	must(t, admin.GetByLabel("Workspace limit for Standard DSv2 Family").Fill("4"))
	must(t, admin.GetByRole("button", playwright.PageGetByRoleOptions{Name: "Save the limit for Standard DSv2 Family"}).Click())
	must(t, expect.Locator(admin.GetByTestId("toast").First()).ToContainText("Standard DSv2 Family in eastus is now 4 vCPUs"))
	must(t, expect.Locator(row).ToHaveAttribute("data-limit", "4"))

	dana := newPage(t)
	signIn(t, dana, p.URL, "dana@example.com", "dana-password-1")
	_, err := dana.Goto(p.URL + "/instances/new")
	must(t, err)
	sizes := dana.GetByRole("group", playwright.PageGetByRoleOptions{Name: "Virtual machine size"})
	ds4 := sizes.GetByRole("radio", playwright.LocatorGetByRoleOptions{Name: "Standard_DS4_v2"})
	must(t, expect.Locator(ds4).ToBeDisabled())
	must(t, expect.Locator(dana.Locator(`[data-size="Standard_DS4_v2"]`)).ToContainText("Standard DSv2 Family: 8 vCPUs requested, but 0 of the workspace's limit of 4 are in use in eastus."))
	must(t, expect.Locator(sizes.GetByRole("radio", playwright.LocatorGetByRoleOptions{Name: "Standard_DS3_v2"})).ToBeChecked())
	checkAccessibility(t, dana, "create form with sizes over quota")
	must(t, dana.GetByLabel("Compute name").Fill("dana-box"))
	must(t, button(dana.Locator("body"), "Create").Click())
	must(t, dana.WaitForURL(p.URL+"/instances"))

	_, err = admin.Reload()
	must(t, err)
	must(t, expect.Locator(row).ToHaveAttribute("data-used", "4"))
	must(t, expect.Locator(row.Locator("svg")).ToHaveAttribute("aria-label", "4 of 4 (100%)"))
	must(t, expect.Locator(row.Locator(".holders")).ToContainText("dana-box"))
	screenshot(t, admin, "quota", false)

	danaRow := dana.Locator(`tr[data-name="dana-box"]`)
	must(t, expect.Locator(danaRow.GetByTestId("state")).ToHaveText("Running", playwright.LocatorAssertionsToHaveTextOptions{Timeout: playwright.Float(45000)}))
	must(t, button(danaRow, "Stop").Click())
	must(t, expect.Locator(danaRow.GetByTestId("state")).ToHaveText("Stopped", playwright.LocatorAssertionsToHaveTextOptions{Timeout: playwright.Float(30000)}))

	_, err = admin.Reload()
	must(t, err)
	must(t, expect.Locator(row).ToHaveAttribute("data-used", "0"))
	must(t, expect.Locator(row.Locator("svg")).ToHaveAttribute("aria-label", "0 of 4 (0%)"))
	// Azure still counts the stopped VM.
	must(t, admin.GetByRole("link", playwright.PageGetByRoleOptions{Name: "Subscription"}).Click())
	must(t, expect.Locator(admin.Locator(`tr[data-family="standardDSv2Family"]`)).ToHaveAttribute("data-used", "4"))
}
