package e2e

import (
	"testing"

	"github.com/mxschmitt/playwright-go"
)

// TestSetupScriptsJourney: an owner gives setup scripts on the create
// form, offline, where they run in the instance's sandbox as its root,
// writing in the home of the instance's user, which lasts as on a VM. A
// timeout out of bounds is said by its field and nothing is made. The
// creation script writes a file; the startup script reads it and appends a
// line at each start, which the details page's Setup log shows after the
// create and again after Stop and Start. A failing creation script leaves
// its instance SetupFailed ("Setup failed"), with its log and exit code on
// the details page.
// axe checks the form and both details pages.
func TestSetupScriptsJourney(t *testing.T) {
	p := startPortal(t)
	page := newPage(t)
	signIn(t, page, p.URL, "admin@example.com", adminPassword)
	body := page.Locator("body")
	long := playwright.LocatorAssertionsToHaveTextOptions{Timeout: playwright.Float(60000)}
	longContain := playwright.LocatorAssertionsToContainTextOptions{Timeout: playwright.Float(60000)}

	_, err := page.Goto(p.URL + "/instances/new")
	must(t, err)
	scripts := page.GetByRole("region", playwright.PageGetByRoleOptions{Name: "Setup scripts"})
	must(t, expect.Locator(scripts).ToBeVisible())
	must(t, page.GetByLabel("Compute name").Fill("scripted-ws"))
	must(t, page.GetByLabel("Creation script commands").Fill("echo made by $CI_NAME > /home/$CI_LOCAL_UBUNTU_USER/made\n"))
	must(t, page.GetByLabel("Startup script commands").Fill("cd /home/$CI_LOCAL_UBUNTU_USER\ncat made\necho start >> starts\necho \"starts: $(wc -l < starts)\"\n"))
	must(t, page.GetByLabel("Startup script timeout (minutes)").Fill("500"))
	checkAccessibility(t, page, "create form with setup scripts")
	must(t, button(body, "Create").Click())
	must(t, expect.Locator(page.GetByTestId("startup_script.timeout_minutes-error")).ToContainText("1 to 120"))
	must(t, expect.Locator(page.GetByLabel("Startup script timeout (minutes)")).ToHaveAttribute("aria-invalid", "true"))
	must(t, expect.Locator(page.GetByLabel("Creation script commands")).ToHaveValue("echo made by $CI_NAME > /home/$CI_LOCAL_UBUNTU_USER/made\n"))
	must(t, page.GetByLabel("Startup script timeout (minutes)").Fill("5"))
	must(t, button(body, "Create").Click())
	must(t, page.WaitForURL(p.URL+"/instances"))

	row := page.Locator(`tr[data-name="scripted-ws"]`)
	must(t, expect.Locator(row.GetByTestId("state")).ToHaveText("Running", long))
	must(t, row.GetByRole("link", playwright.LocatorGetByRoleOptions{Name: "scripted-ws"}).Click())
	must(t, page.WaitForURL(p.URL+"/instances/scripted-ws"))
	log := page.GetByRole("region", playwright.PageGetByRoleOptions{Name: "Setup log of scripted-ws"})
	must(t, expect.Locator(log).ToHaveText("made by scripted-ws\nstarts: 1\n"))
	must(t, expect.Locator(page.GetByTestId("setup-exit-code")).ToHaveText("0"))

	_, err = page.Goto(p.URL + "/instances")
	must(t, err)
	must(t, button(row, "Stop").Click())
	must(t, expect.Locator(row.GetByTestId("state")).ToHaveText("Stopped", long))
	must(t, button(row, "Start").Click())
	must(t, expect.Locator(row.GetByTestId("state")).ToHaveText("Running", long))
	_, err = page.Goto(p.URL + "/instances/scripted-ws")
	must(t, err)
	must(t, expect.Locator(log).ToHaveText("made by scripted-ws\nstarts: 2\n"))
	checkAccessibility(t, page, "details with a setup log")

	_, err = page.Goto(p.URL + "/instances/new")
	must(t, err)
	must(t, page.GetByLabel("Compute name").Fill("failing-ws"))
	must(t, page.GetByLabel("Creation script commands").Fill("echo 'installing <tools>'\necho 'no such package' >&2\nexit 3\n"))
	must(t, button(body, "Create").Click())
	must(t, page.WaitForURL(p.URL+"/instances"))
	failing := page.Locator(`tr[data-name="failing-ws"]`)
	must(t, expect.Locator(failing.GetByTestId("state")).ToHaveText("Setup failed", long))
	must(t, failing.GetByRole("link", playwright.LocatorGetByRoleOptions{Name: "failing-ws"}).Click())
	must(t, page.WaitForURL(p.URL+"/instances/failing-ws"))
	detail := page.GetByTestId("detail")
	must(t, expect.Locator(detail.GetByTestId("state")).ToHaveText("Setup failed"))
	failedLog := page.GetByRole("region", playwright.PageGetByRoleOptions{Name: "Setup log of failing-ws"})
	must(t, expect.Locator(failedLog).ToContainText("installing <tools>\nno such package", longContain))
	must(t, expect.Locator(page.GetByTestId("setup-exit-code")).ToHaveText("3"))
	checkAccessibility(t, page, "details of a failed setup")
}
