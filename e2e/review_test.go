package e2e

import (
	"strings"
	"testing"

	"github.com/mxschmitt/playwright-go"
)

const teamIdentity = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/team-rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/team-data"

// TestReviewBeforeCreate is the create form's Review step in Chromium, with
// script and without: rows added for a tag and a schedule, a description
// and an identity, then Review shows them with the price, the quota and the
// owner; Back brings the form back with every value; Review again, Create.
// axe checks the form and the review.
func TestReviewBeforeCreate(t *testing.T) {
	p := startPortal(t, "--azure-identities", teamIdentity)
	for _, script := range []bool{true, false} {
		name := map[bool]string{true: "rev-script", false: "rev-plain"}[script]
		t.Run(name, func(t *testing.T) {
			page := newPageScript(t, script)
			signIn(t, page, p.URL, "admin@example.com", adminPassword)
			_, err := page.Goto(p.URL + "/instances/new")
			must(t, err)
			body := page.Locator("body")
			fill := func(label, value string) { t.Helper(); must(t, page.GetByLabel(label, exact).Fill(value)) }

			fill("Compute name", name)
			fill("Tag 1 name", "team")
			fill("Tag 1 value", "vision")
			must(t, button(body, "Add tag").Click())
			// With script the row comes in place and takes the focus;
			// without, the form comes back with it and what was typed.
			must(t, expect.Locator(page.GetByLabel("Tag 2 name", exact)).ToBeVisible())
			if script {
				must(t, expect.Locator(page.GetByLabel("Tag 2 name", exact)).ToBeFocused())
			}
			must(t, expect.Locator(page.GetByLabel("Tag 1 value", exact)).ToHaveValue("vision"))
			fill("Tag 2 name", "project")
			fill("Tag 2 value", "cats")
			must(t, button(body, "Add schedule").Click())
			must(t, expect.Locator(page.GetByLabel("Action (schedule 1)")).ToBeVisible())
			must(t, expect.Locator(page.GetByLabel("Tag 2 value", exact)).ToHaveValue("cats"))
			_, err = page.GetByLabel("Action (schedule 1)").SelectOption(playwright.SelectOptionValues{Values: &[]string{"Stop"}})
			must(t, err)
			fill("Times (schedule 1)", "18:00")
			must(t, page.GetByLabel("Friday (schedule 1)").Check())
			fill("Description", "Cats and dogs")
			must(t, page.GetByLabel("User-assigned: team-data").Check())
			// axe and screenshots need script in the page; the pages without
			// script are the same server-rendered markup.
			if script {
				screenshot(t, page, "create-form-review-filled", true)
			}

			must(t, button(body, "Review").Click())
			review := page.GetByTestId("review")
			must(t, expect.Locator(page.GetByRole("heading", playwright.PageGetByRoleOptions{Name: "Review " + name})).ToBeVisible())
			must(t, expect.Locator(page.GetByTestId("review-name")).ToHaveText(name))
			must(t, expect.Locator(page.GetByTestId("review-size")).ToContainText("Standard_DS3_v2 4 vCPUs · 14 GiB"))
			must(t, expect.Locator(page.GetByTestId("review-tags")).ToContainText("project: cats"))
			must(t, expect.Locator(page.GetByTestId("review-tags")).ToContainText("team: vision"))
			must(t, expect.Locator(page.GetByTestId("review-description")).ToHaveText("Cats and dogs"))
			must(t, expect.Locator(page.GetByTestId("review-identity")).ToContainText("team-data"))
			must(t, expect.Locator(page.GetByTestId("review-schedules")).ToContainText("18:00"))
			must(t, expect.Locator(page.GetByTestId("review-price")).ToContainText("/hour, "))
			must(t, expect.Locator(page.GetByTestId("review-price")).ToContainText("a month of office hours"))
			must(t, expect.Locator(page.GetByTestId("review-owner")).ToContainText("You will own it"))
			must(t, expect.Locator(page.GetByTestId("review-owner")).ToContainText("(admin@example.com)"))
			quota := review.GetByRole("row", playwright.LocatorGetByRoleOptions{Name: "Standard DSv2 Family vCPUs (subscription)"})
			must(t, expect.Locator(quota).ToContainText("+4"))
			if script {
				must(t, expect.Locator(page.GetByRole("heading", playwright.PageGetByRoleOptions{Name: "Review " + name})).ToBeFocused())
			}
			if script {
				screenshot(t, page, "create-review", true)
			}

			must(t, button(body, "Back").Click())
			must(t, expect.Locator(page.GetByLabel("Compute name")).ToHaveValue(name))
			must(t, expect.Locator(page.GetByLabel("Tag 2 value", exact)).ToHaveValue("cats"))
			must(t, expect.Locator(page.GetByLabel("Description", exact)).ToHaveValue("Cats and dogs"))
			must(t, expect.Locator(page.GetByLabel("Times (schedule 1)")).ToHaveValue("18:00"))
			must(t, expect.Locator(page.GetByLabel("Friday (schedule 1)")).ToBeChecked())
			must(t, expect.Locator(page.GetByLabel("User-assigned: team-data")).ToBeChecked())

			must(t, button(body, "Review").Click())
			must(t, expect.Locator(page.GetByTestId("review-name")).ToHaveText(name))
			must(t, button(body, "Create").Click())
			must(t, page.WaitForURL(p.URL+"/instances"))
			must(t, expect.Locator(page.GetByTestId("toast").Filter(playwright.LocatorFilterOptions{HasText: "Creating " + name})).ToBeVisible())
			_, err = page.Goto(p.URL + "/instances/" + name)
			must(t, err)
			must(t, expect.Locator(page.GetByTestId("description")).ToHaveText("Cats and dogs"))
			tags, err := page.GetByTestId("tags").TextContent()
			must(t, err)
			if !strings.Contains(tags, "project: cats") || !strings.Contains(tags, "team: vision") {
				t.Errorf("the details' tags = %q", tags)
			}
		})
	}
}

var exact = playwright.PageGetByLabelOptions{Exact: playwright.Bool(true)}

// newPageScript is newPage with script on or off.
func newPageScript(t *testing.T, script bool) playwright.Page {
	t.Helper()
	if script {
		return newPage(t)
	}
	ctx, err := browser.NewContext(playwright.BrowserNewContextOptions{
		Viewport:          &playwright.Size{Width: 1440, Height: 900},
		Locale:            playwright.String("en-US"),
		JavaScriptEnabled: playwright.Bool(false),
	})
	must(t, err)
	t.Cleanup(func() { ctx.Close() })
	page, err := ctx.NewPage()
	must(t, err)
	return page
}

// TestEnterReviews: Enter in a field of the create form reviews what was
// typed, with script and without, rather than pressing the form's first
// visible button ("Add tag").
func TestEnterReviews(t *testing.T) {
	p := startPortal(t)
	for _, script := range []bool{true, false} {
		name := map[bool]string{true: "enter-script", false: "enter-plain"}[script]
		t.Run(name, func(t *testing.T) {
			page := newPageScript(t, script)
			signIn(t, page, p.URL, "admin@example.com", adminPassword)
			_, err := page.Goto(p.URL + "/instances/new")
			must(t, err)
			// Each field answers to its label alone, as a person's words
			// find it: no section is named by words of a label.
			for _, label := range []string{"Compute name", "Description", "Tag 1 name", "SSH public key"} {
				if n, err := page.GetByLabel(label).Count(); err != nil || n != 1 {
					t.Errorf("%d elements answer to the label %q (%v), want the field alone", n, label, err)
				}
			}
			must(t, page.GetByLabel("Compute name", exact).Fill(name))
			must(t, page.GetByLabel("Compute name", exact).Press("Enter"))
			must(t, expect.Locator(page.GetByRole("heading", playwright.PageGetByRoleOptions{Name: "Review " + name})).ToBeVisible())
			if n, err := page.GetByLabel("Tag 2 name", exact).Count(); err != nil || n != 0 {
				t.Errorf("Enter added a tag row (%d, %v)", n, err)
			}
		})
	}
}
