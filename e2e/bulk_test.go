package e2e

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/mxschmitt/playwright-go"
)

// TestBulkActionsJourney: an Owner selects rows of the list and stops them
// from the toolbar, then selects the whole page and deletes it, confirming
// in the dialog; each time the list says what it did.
func TestBulkActionsJourney(t *testing.T) {
	p := startPortal(t, "--emulator-latency", "0.02")
	out, err := exec.Command(binary, "tokens", "create", "--data", p.Data, "--email", "admin@example.com", "--name", "seed").Output()
	must(t, err)
	for _, name := range []string{"bulk-a", "bulk-b", "bulk-c"} {
		cmd := exec.Command(binary, "compute", "create", name, "--size", "Standard_DS1_v2", "--wait")
		cmd.Env = append(os.Environ(), "INSTANCEHUB_URL="+p.URL, "INSTANCEHUB_TOKEN="+strings.TrimSpace(string(out)))
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("compute create %s: %v\n%s", name, err, b)
		}
	}
	page := newPage(t)
	signIn(t, page, p.URL, "admin@example.com", adminPassword)
	body := page.Locator("body")
	// Until a row is selected, the toolbar offers nothing that acts on a
	// selection: a row's own Stop is the only button of that name in it.
	must(t, expect.Locator(page.GetByRole("button", playwright.PageGetByRoleOptions{Name: "Stop"})).ToHaveCount(3))
	must(t, page.GetByRole("checkbox", playwright.PageGetByRoleOptions{Name: "Select bulk-a"}).Check())
	must(t, expect.Locator(button(body, "Stop selected")).ToBeVisible())
	must(t, page.GetByRole("checkbox", playwright.PageGetByRoleOptions{Name: "Select bulk-b"}).Check())
	must(t, expect.Locator(page.Locator("#selection-count")).ToHaveText("2 selected"))
	screenshot(t, page, "bulk-selected", false)
	must(t, button(body, "Stop selected").Click())
	must(t, expect.Locator(page.GetByTestId("toast").First()).ToContainText("Stopping 2 instances: bulk-b, bulk-a.")) // in the list's order
	for _, name := range []string{"bulk-a", "bulk-b"} {
		must(t, expect.Locator(page.Locator(`tr[data-name="`+name+`"]`).GetByTestId("state")).ToHaveText("Stopped",
			playwright.LocatorAssertionsToHaveTextOptions{Timeout: playwright.Float(30000)}))
	}
	must(t, expect.Locator(page.Locator(`tr[data-name="bulk-c"]`).GetByTestId("state")).ToHaveText("Running"))

	must(t, page.GetByRole("checkbox", playwright.PageGetByRoleOptions{Name: "Select every instance on this page"}).Check())
	must(t, expect.Locator(page.Locator("#selection-count")).ToHaveText("3 selected"))
	must(t, button(body, "Delete selected").Click())
	dialog := page.GetByRole("dialog")
	must(t, expect.Locator(dialog).ToContainText("Delete the 3 selected instances?"))
	checkAccessibility(t, page, "bulk delete dialog")
	must(t, button(dialog, "Delete").Click())
	must(t, expect.Locator(page.GetByTestId("toast").First()).ToContainText("Deleting 3 instances"))
	// Each row leaves the list once its instance is gone.
	must(t, expect.Locator(page.Locator(`tr[data-name^="bulk-"]`)).ToHaveCount(0, playwright.LocatorAssertionsToHaveCountOptions{Timeout: playwright.Float(45000)}))
}
