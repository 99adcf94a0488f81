package e2e

import (
	"testing"

	"github.com/mxschmitt/playwright-go"
)

// TestARefusedActionSaysWhy: an action the portal refuses (here a Start of
// a running instance, its button enabled again as a page gone stale would
// have it) says why in a notice, from the details as from the list, and
// leaves what the page shows in place. The list's row stays the same
// element through an action's answer, as through a change's fetch: a fetch
// queued on it is not lost with it.
func TestARefusedActionSaysWhy(t *testing.T) {
	p := startPortal(t, "--emulator-latency", "0")
	page := newPage(t)
	signIn(t, page, p.URL, "admin@example.com", adminPassword)
	createRunning(t, page, p, "refused-box")
	row := page.Locator(`tr[data-name="refused-box"]`)
	streamOpened(t, page)
	// Start, its button enabled again, is refused with its reason.
	refuseStart := func(scope playwright.Locator) {
		t.Helper()
		start := button(scope, "Start")
		_, err := start.Evaluate(`b => { b.removeAttribute("aria-disabled"); b.removeAttribute("aria-describedby") }`, nil)
		must(t, err)
		must(t, start.Click())
		must(t, expect.Locator(page.GetByTestId("toast").Last()).ToContainText("Start is only allowed when the instance is stopped; it is running."))
	}

	// The list: the notice, the row kept, and the same row element.
	_, err := page.Evaluate(`() => { window.keptRow = document.querySelector('tr[data-name="refused-box"]') }`)
	must(t, err)
	refuseStart(row)
	must(t, expect.Locator(row.GetByTestId("state")).ToHaveText("Running"))
	must(t, expect.Locator(row.GetByRole("link", playwright.LocatorGetByRoleOptions{Name: "refused-box"})).ToBeVisible())
	must(t, button(row, "Stop").Click())
	must(t, expect.Locator(row.GetByTestId("state")).ToHaveText("Stopped", playwright.LocatorAssertionsToHaveTextOptions{Timeout: playwright.Float(30000)}))
	same, err := page.Evaluate(`() => window.keptRow === document.querySelector('tr[data-name="refused-box"]') && window.keptRow.isConnected`)
	must(t, err)
	if same != true {
		t.Error("the row's element was replaced by the Stop's answer: what was queued on it is lost")
	}
	must(t, button(row, "Start").Click())
	must(t, expect.Locator(row.GetByTestId("state")).ToHaveText("Running", playwright.LocatorAssertionsToHaveTextOptions{Timeout: playwright.Float(30000)}))

	// The details: the notice, and the details kept.
	detail := openDetails(t, page, p, "refused-box")
	refuseStart(detail)
	must(t, expect.Locator(detail.GetByTestId("state")).ToHaveText("Running"))
	checkAccessibility(t, page, "a refused action's notice on the details")
}
