package e2e

import (
	"fmt"
	"testing"

	"github.com/mxschmitt/playwright-go"
)

// TestNarrowScreens: at 800 and 390 px wide, the list, the details page and
// the create form fit the width (no sideways scrolling of the page), and a
// row's actions stay in sight.
func TestNarrowScreens(t *testing.T) {
	p := startPortal(t, "--emulator-latency", "0")
	page := newPage(t)
	signIn(t, page, p.URL, "admin@example.com", adminPassword)
	_, err := page.Goto(p.URL + "/instances/new")
	must(t, err)
	must(t, page.GetByLabel("Compute name").Fill("narrow-box"))
	must(t, expect.Locator(page.GetByTestId("name-message")).ToHaveText("This name is available."))
	must(t, button(page.Locator("body"), "Create").Click())
	must(t, page.WaitForURL(p.URL+"/instances"))
	row := page.Locator(`tr[data-name="narrow-box"]`)
	must(t, expect.Locator(row.GetByTestId("state")).ToHaveText("Running", playwright.LocatorAssertionsToHaveTextOptions{Timeout: playwright.Float(30000)}))

	for _, width := range []int{800, 390} {
		must(t, page.SetViewportSize(width, 900))
		for _, path := range []string{"/instances", "/instances/narrow-box", "/instances/new"} {
			_, err := page.Goto(p.URL + path)
			must(t, err)
			overflow, err := page.Evaluate(`document.documentElement.scrollWidth - window.innerWidth`)
			must(t, err)
			if n, _ := overflow.(int); n > 0 {
				wide, _ := page.Evaluate(`[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > innerWidth + 1).map(e => e.tagName + '.' + e.className + '#' + e.id + ' ' + Math.round(e.getBoundingClientRect().right)).slice(0, 8).join(' | ')`)
				t.Errorf("%s at %d px scrolls sideways by %d px: %v", path, width, n, wide)
			}
			if path == "/instances" {
				if err := expect.Locator(button(row, "Delete")).ToBeInViewport(playwright.LocatorAssertionsToBeInViewportOptions{Ratio: playwright.Float(1)}); err != nil {
					t.Errorf("at %d px: %v", width, err)
				}
			}
			screenshot(t, page, fmt.Sprintf("narrow-%d%s", width, map[string]string{"/instances": "-list", "/instances/narrow-box": "-details", "/instances/new": "-create"}[path]), true)
		}
	}
}
