package e2e

import (
	"testing"

	"github.com/mxschmitt/playwright-go"
)

// TestFocusFollowsTheAnswer: a create the server refuses puts the keyboard
// in the first field that needs a change, and a create that succeeds puts
// it on the notice the list shows, never on the page's body; when the
// notice leaves, the focus goes to the page's title, drawn without a ring.
func TestFocusFollowsTheAnswer(t *testing.T) {
	p := startPortal(t)
	page := newPage(t)
	signIn(t, page, p.URL, "admin@example.com", adminPassword)
	_, err := page.Goto(p.URL + "/instances/new")
	must(t, err)
	body := page.Locator("body")
	must(t, page.GetByLabel("Compute name").Fill("focus-box"))
	must(t, page.GetByLabel("Enable SSH access").Check())
	must(t, page.GetByLabel("SSH public key").Fill("not a key"))
	must(t, button(body, "Create").Click())

	must(t, expect.Locator(page.GetByTestId("ssh_public_key-error")).ToBeVisible())
	must(t, expect.Locator(page.GetByLabel("SSH public key")).ToBeFocused())
	if id, err := page.Evaluate(`document.activeElement.id`); err != nil || id != "ssh_public_key" {
		t.Errorf("after the refusal, document.activeElement is %v (%v), want the SSH key's field", id, err)
	}
	checkAccessibility(t, page, "create form refused, focus on the key")

	must(t, page.GetByLabel("SSH public key").Fill(sshKey))
	must(t, button(body, "Create").Click())
	must(t, page.WaitForURL(p.URL+"/instances"))
	toast := page.GetByTestId("toast").Filter(playwright.LocatorFilterOptions{HasText: "Creating focus-box"})
	must(t, expect.Locator(toast).ToBeFocused())
	if focused, err := page.Evaluate(`document.activeElement.dataset.testid`); err != nil || focused != "toast" {
		t.Errorf("after the create, document.activeElement is %v (%v), want the notice", focused, err)
	}
	checkAccessibility(t, page, "list after a create, focus on the notice")

	title := page.GetByRole("heading", playwright.PageGetByRoleOptions{Name: "Compute", Exact: playwright.Bool(true)})
	must(t, expect.Locator(toast).ToBeHidden(playwright.LocatorAssertionsToBeHiddenOptions{Timeout: playwright.Float(15000)}))
	must(t, expect.Locator(title).ToBeFocused())
	if outline, err := title.Evaluate(`h => getComputedStyle(h).outlineStyle`, nil); err != nil || outline != "none" {
		t.Errorf("the focused title's outline is %v (%v), want none", outline, err)
	}
}
