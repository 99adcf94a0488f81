package e2e

import (
	"testing"

	"github.com/mxschmitt/playwright-go"
)

// TestSchedulingJourney: on the create form, idle shutdown is set and a
// stop schedule added; the details page shows both, and edits the idle time.
func TestSchedulingJourney(t *testing.T) {
	p := startPortal(t)
	page := newPage(t)
	signIn(t, page, p.URL, "admin@example.com", adminPassword)
	_, err := page.Goto(p.URL + "/instances/new")
	must(t, err)

	must(t, page.GetByLabel("Compute name").Fill("night-owl"))
	idle := page.GetByLabel("Enable idle shutdown")
	must(t, expect.Locator(idle).ToBeChecked()) // the workspace's default: on
	must(t, expect.Locator(page.GetByLabel("Shut down after (minutes)")).ToHaveValue("60"))
	must(t, page.GetByLabel("Shut down after (minutes)").Fill("45"))

	must(t, button(page.Locator("body"), "Add schedule").Click())
	choose(t, page.GetByLabel("Action (schedule 1)"), "Stop")
	must(t, page.GetByLabel("Times (schedule 1)").Fill("18:30"))
	for _, day := range []string{"Monday", "Tuesday", "Wednesday", "Thursday", "Friday"} {
		must(t, page.GetByLabel(day+" (schedule 1)", playwright.PageGetByLabelOptions{Exact: playwright.Bool(true)}).Check())
	}
	must(t, page.GetByLabel("Time zone (schedule 1)").Fill("W. Europe Standard Time"))
	// The name and the idle time survive the round trip of Add schedule.
	must(t, expect.Locator(page.GetByLabel("Compute name")).ToHaveValue("night-owl"))
	must(t, expect.Locator(page.GetByLabel("Shut down after (minutes)")).ToHaveValue("45"))
	must(t, button(page.Locator("body"), "Create").Click())

	must(t, page.GetByRole("link", playwright.PageGetByRoleOptions{Name: "night-owl", Exact: playwright.Bool(true)}).Click())
	scheduling := page.GetByTestId("scheduling")
	must(t, expect.Locator(scheduling.GetByTestId("idle-shutdown")).ToHaveText("After 45 minutes without activity"))
	must(t, expect.Locator(scheduling.GetByTestId("schedule-row")).ToContainText("Stop at 18:30 on Mon, Tue, Wed, Thu, Fri (W. Europe Standard Time)"))
	screenshot(t, page, "scheduling", true)

	// Changing the idle time on the details page.
	must(t, page.GetByLabel("Shut down after (minutes)").Fill("120"))
	must(t, button(page.Locator("body"), "Save idle shutdown").Click())
	must(t, expect.Locator(page.GetByTestId("idle-shutdown")).ToHaveText("After 2 hours without activity"))
}
