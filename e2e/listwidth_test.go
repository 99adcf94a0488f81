package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/mxschmitt/playwright-go"
)

// TestRowActionsInViewAtLaptopWidths: at 1,024, 1,280 and 1,440 px, the
// widths of most laptops, a row's name (its checkbox beside it), state and
// every action are inside the viewport without scrolling sideways, and
// using Delete scrolls neither the table nor the page. The actions' frozen
// column shows a shadow at its edge while columns lie beneath it, and none
// once the list is scrolled to its end or fits.
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
		box := func(l playwright.Locator) *playwright.Rect {
			t.Helper()
			b, err := l.BoundingBox()
			must(t, err)
			return b
		}
		check, name := box(row.GetByRole("checkbox")), box(row.GetByRole("link", playwright.LocatorGetByRoleOptions{Name: "laptop-box", Exact: playwright.Bool(true)}))
		if d := (check.Y + check.Height/2) - (name.Y + name.Height/2); d < -4 || d > 4 {
			t.Errorf("at %d px, the checkbox is not beside the name: %+v, %+v", width, check, name)
		}
		edge(t, page, width, "while columns lie beneath the actions", "1")
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
		_, err = page.Evaluate(`(w => { w.scrollLeft = w.scrollWidth })(document.querySelector("#row-actions"))`)
		must(t, err)
		edge(t, page, width, "scrolled to the end", "0")
	}
	must(t, page.SetViewportSize(1920, 800))
	_, err = page.Goto(p.URL + "/instances")
	must(t, err)
	edge(t, page, 1920, "with every column in view", "0")
}

// edge waits for the opacity of the shadow at the edge of the list's frozen
// column of actions to be want (it fades in 0.15 s), and fails the test if
// it does not come within 5 s.
func edge(t *testing.T, page playwright.Page, width int, when, want string) {
	t.Helper()
	const opacity = `getComputedStyle(document.querySelector("#row-actions tbody tr > :last-child"), "::before").opacity`
	var got any
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		var err error
		if got, err = page.Evaluate(opacity); err == nil && got == want {
			return
		}
	}
	t.Errorf("at %d px, %s: the frozen column's edge has opacity %v, want %s", width, when, got, want)
}
