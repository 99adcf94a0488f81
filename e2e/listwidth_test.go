package e2e

import (
	"fmt"
	"testing"

	"github.com/mxschmitt/playwright-go"
)

// TestRowActionsInViewAtLaptopWidths: at 1,024, 1,280 and 1,440 px, the
// widths of most laptops, a row's name, state and every action are inside
// the viewport without scrolling sideways, and using Delete scrolls
// neither the table nor the page.
func TestRowActionsInViewAtLaptopWidths(t *testing.T) {
	p := startPortal(t, "--emulator-latency", "0")
	page := newPage(t)
	signIn(t, page, p.URL, "admin@example.com", adminPassword)
	_, err := page.Goto(p.URL + "/instances/new")
	must(t, err)
	must(t, page.GetByLabel("Compute name").Fill("laptop-box"))
	must(t, expect.Locator(page.GetByTestId("name-message")).ToHaveText("This name is available."))
	must(t, button(page.Locator("body"), "Create").Click())
	must(t, page.WaitForURL(p.URL+"/instances"))
	row := page.Locator(`tr[data-name="laptop-box"]`)
	must(t, expect.Locator(row.GetByTestId("state")).ToHaveText("Running", playwright.LocatorAssertionsToHaveTextOptions{Timeout: playwright.Float(30000)}))

	whole := playwright.LocatorAssertionsToBeInViewportOptions{Ratio: playwright.Float(1)}
	for _, width := range []int{1024, 1280, 1440} {
		must(t, page.SetViewportSize(width, 800))
		_, err := page.Goto(p.URL + "/instances")
		must(t, err)
		in := func(what string, l playwright.Locator) {
			t.Helper()
			if err := expect.Locator(l).ToBeInViewport(whole); err != nil {
				t.Errorf("at %d px, %s: %v", width, what, err)
			}
		}
		in("the name", row.GetByRole("link", playwright.LocatorGetByRoleOptions{Name: "laptop-box", Exact: playwright.Bool(true)}))
		in("the state", row.GetByTestId("state"))
		for _, action := range []string{"Start", "Stop", "Restart", "Delete"} {
			in(action, button(row, action))
		}
		// Using Delete (it asks first) moves nothing sideways.
		must(t, button(row, "Delete").Click())
		dialog := page.GetByRole("dialog")
		must(t, expect.Locator(dialog).ToBeVisible())
		scrolled, err := page.Evaluate(`document.querySelector("#row-actions").scrollLeft + window.scrollX`)
		must(t, err)
		if n, _ := scrolled.(int); n != 0 {
			t.Errorf("at %d px, Delete scrolled sideways by %d px", width, n)
		}
		must(t, button(dialog, "Cancel").Click())
		in("the name after Delete's question", row.GetByRole("link", playwright.LocatorGetByRoleOptions{Name: "laptop-box", Exact: playwright.Bool(true)}))
		screenshot(t, page, fmt.Sprintf("list-%d", width), false)
	}
}
