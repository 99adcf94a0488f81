package e2e

import (
	"testing"

	"github.com/mxschmitt/playwright-go"
)

// TestQuotaRequestJourney: a Data Scientist asks for the quota a size
// lacks, from "Request quota" beside it; the Owner, in another browser
// context, sees the request on the quota page and grants it in one click;
// the Data Scientist is told on their next visit. Then a second request is
// declined with a reason, and told the same way. axe checks each state:
// the form with the link, the request form, the quota page with the
// request, the requester's notices.
func TestQuotaRequestJourney(t *testing.T) {
	p := startPortal(t)
	p.addUser(t, "dana@example.com", "Dana Scientist", "dana-password-1")
	p.assignRole(t, "dana@example.com", "Data Scientist")

	admin := newPage(t)
	signIn(t, admin, p.URL, "admin@example.com", adminPassword)
	_, err := admin.Goto(p.URL + "/quota?region=eastus")
	must(t, err)
	must(t, admin.GetByLabel("Workspace limit for Standard DSv2 Family").Fill("4"))
	must(t, admin.GetByRole("button", playwright.PageGetByRoleOptions{Name: "Save the limit for Standard DSv2 Family"}).Click())
	row := admin.Locator(`tr[data-family="standardDSv2Family"]`)
	must(t, expect.Locator(row).ToHaveAttribute("data-limit", "4"))

	dana := newPage(t)
	signIn(t, dana, p.URL, "dana@example.com", "dana-password-1")
	_, err = dana.Goto(p.URL + "/instances/new?region=eastus")
	must(t, err)
	ask := dana.GetByRole("link", playwright.PageGetByRoleOptions{Name: "Request quota for Standard_DS4_v2", Exact: playwright.Bool(true)})
	must(t, expect.Locator(ask).ToBeVisible())
	checkAccessibility(t, dana, "create form with Request quota")
	must(t, ask.Click())
	must(t, expect.Locator(dana.GetByRole("heading", playwright.PageGetByRoleOptions{Name: "Request quota"})).ToBeVisible())
	must(t, expect.Locator(dana.GetByLabel("vCPUs to add")).ToHaveValue("4"))
	must(t, expect.Locator(dana.GetByTestId("request-family")).ToHaveText("Standard DSv2 Family"))
	screenshot(t, dana, "quota-request-form", false)
	// Without a reason, the form says so beside the field.
	must(t, dana.GetByLabel("Why you need it").Fill(" "))
	must(t, button(dana.Locator("body"), "Send request").Click())
	must(t, expect.Locator(dana.GetByTestId("request-reason-error")).ToContainText("Say why you need it"))
	checkAccessibility(t, dana, "quota request form with an error")
	must(t, dana.GetByLabel("Why you need it").Fill("Training a bigger model this week."))
	must(t, button(dana.Locator("body"), "Send request").Click())
	must(t, dana.WaitForURL(p.URL+"/instances/new?region=eastus"))
	must(t, expect.Locator(dana.GetByTestId("toast").First()).ToContainText("is sent to the workspace's Owners"))

	_, err = admin.Reload()
	must(t, err)
	requests := admin.GetByRole("region", playwright.PageGetByRoleOptions{Name: "Open quota requests"})
	must(t, expect.Locator(requests).ToContainText("Dana Scientist"))
	must(t, expect.Locator(requests).ToContainText("Training a bigger model this week."))
	screenshot(t, admin, "quota-requests", false)
	must(t, admin.GetByRole("button", playwright.PageGetByRoleOptions{Name: "Grant Dana Scientist's request for 4 vCPUs more of Standard DSv2 Family in eastus"}).Click())
	must(t, expect.Locator(admin.GetByTestId("toast").Last()).ToContainText("Granted: the workspace's limit for Standard DSv2 Family in eastus rose by 4 vCPUs."))
	must(t, expect.Locator(row).ToHaveAttribute("data-limit", "8"))
	must(t, expect.Locator(admin.GetByText("No one is waiting for quota.")).ToBeVisible())
	checkAccessibility(t, admin, "quota page after a grant")

	_, err = dana.Goto(p.URL + "/instances")
	must(t, err)
	must(t, expect.Locator(dana.GetByTestId("toast").First()).ToHaveText("Administrator granted your request for 4 vCPUs more of Standard DSv2 Family in eastus: the workspace's limit is raised."))
	checkAccessibility(t, dana, "the requester's notice of a grant")
	// The answer stays until it is dismissed.
	notice := dana.GetByTestId("toast").First()
	must(t, expect.Locator(notice).ToHaveAttribute("data-stays", ""))
	must(t, button(notice, "Dismiss").Click())
	must(t, expect.Locator(notice).ToHaveCount(0))

	// A second request, declined with a reason.
	_, err = dana.Goto(p.URL + "/instances/new?region=eastus")
	must(t, err)
	must(t, expect.Locator(dana.GetByRole("radio", playwright.PageGetByRoleOptions{Name: "Standard_DS4_v2"})).ToBeEnabled())
	must(t, dana.GetByRole("link", playwright.PageGetByRoleOptions{Name: "Request quota for Standard_DS5_v2", Exact: playwright.Bool(true)}).Click())
	must(t, expect.Locator(dana.GetByLabel("vCPUs to add")).ToHaveValue("8"))
	must(t, dana.GetByLabel("Why you need it").Fill("A sweep over every size."))
	must(t, button(dana.Locator("body"), "Send request").Click())
	must(t, dana.WaitForURL(p.URL+"/instances/new?region=eastus"))

	_, err = admin.Reload()
	must(t, err)
	decline := admin.GetByRole("button", playwright.PageGetByRoleOptions{Name: "Decline Dana Scientist's request for 8 vCPUs more of Standard DSv2 Family in eastus"})
	must(t, decline.Click())
	must(t, expect.Locator(admin.GetByTestId("decision-error")).ToContainText("Say why you decline"))
	checkAccessibility(t, admin, "quota page with a decline's error")
	must(t, admin.GetByLabel("Reason to decline Dana Scientist's request").Fill("Not this month."))
	must(t, decline.Click())
	must(t, expect.Locator(admin.GetByTestId("toast").Last()).ToContainText("Declined Dana Scientist's request"))
	must(t, expect.Locator(row).ToHaveAttribute("data-limit", "8"))

	_, err = dana.Goto(p.URL + "/instances/new?region=eastus")
	must(t, err)
	must(t, expect.Locator(dana.GetByTestId("toast").First()).ToHaveText("Administrator declined your request for 8 vCPUs more of Standard DSv2 Family in eastus: Not this month."))
	checkAccessibility(t, dana, "the requester's notice of a decline")
}
