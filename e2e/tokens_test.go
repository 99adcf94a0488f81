package e2e

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mxschmitt/playwright-go"
)

// TestTokensJourney: someone makes a token from the account menu, copies
// it once, and drives the portal with the command line: a create from an
// az ml file, waited for, shows on the list. Their token page then shows
// its last use; revoking it stops the next call. Owners see everyone's.
func TestTokensJourney(t *testing.T) {
	p := startPortal(t, "--emulator-latency", "0.02")
	page := newPage(t)
	signIn(t, page, p.URL, "admin@example.com", adminPassword)
	must(t, page.Locator("summary.topbar-button").Click())
	must(t, page.GetByRole("menuitem", playwright.PageGetByRoleOptions{Name: "Tokens"}).Click())
	must(t, page.WaitForURL(p.URL+"/tokens"))
	must(t, expect.Locator(page.GetByTestId("no-tokens")).ToBeVisible())
	checkAccessibility(t, page, "tokens (none)")

	must(t, page.GetByLabel("Token name").Fill("nightly report"))
	choose(t, page.GetByLabel("Expires after"), "7d")
	must(t, button(page.Locator("main"), "Create token").Click())
	secretLoc := page.GetByTestId("token-secret")
	must(t, expect.Locator(secretLoc).ToContainText("ihp_"))
	secret, err := secretLoc.TextContent()
	must(t, err)
	screenshot(t, page, "tokens", false)

	file := filepath.Join(t.TempDir(), "from-cli.yml")
	must(t, os.WriteFile(file, []byte("name: from-cli\ntype: computeinstance\nsize: standard_ds1_v2\ndescription: Made with the command line\n"+
		"tags: {team: vision, cost-center: 4711}\nidentity: {type: system_assigned}\n"), 0o600))
	cli := exec.Command(binary, "compute", "create", "--file", file, "--wait")
	cli.Env = append(os.Environ(), "INSTANCEHUB_URL="+p.URL, "INSTANCEHUB_TOKEN="+secret)
	out, err := cli.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Create of from-cli succeeded") {
		t.Fatalf("compute create --wait: %v\n%s", err, out)
	}
	_, err = page.Goto(p.URL + "/instances")
	must(t, err)
	must(t, expect.Locator(page.Locator(`tr:has-text("from-cli")`)).ToContainText("Running"))
	_, err = page.Goto(p.URL + "/instances/from-cli")
	must(t, err)
	must(t, expect.Locator(page.GetByTestId("description")).ToHaveText("Made with the command line"))
	must(t, expect.Locator(page.GetByTestId("tags")).ToContainText("team: vision"))
	must(t, expect.Locator(page.GetByTestId("identity")).ToContainText("System-assigned"))
	screenshot(t, page, "details-from-file", false)

	_, err = page.Goto(p.URL + "/tokens")
	must(t, err)
	row := page.Locator(`tr[data-token="nightly report"]`)
	must(t, expect.Locator(row).Not().ToContainText("Never"))
	must(t, expect.Locator(page.GetByTestId("token-secret")).ToHaveCount(0))
	// Revoking asks first; Cancel leaves the token as it was.
	revoke := page.GetByRole("button", playwright.PageGetByRoleOptions{Name: "Revoke nightly report"})
	must(t, revoke.Click())
	dialog := page.GetByRole("dialog")
	must(t, expect.Locator(dialog).ToContainText("Revoke the token nightly report?"))
	must(t, expect.Locator(dialog).ToContainText("A revoked token stays revoked"))
	checkAccessibility(t, page, "revoke dialog")
	must(t, button(dialog, "Cancel").Click())
	must(t, expect.Locator(dialog).ToBeHidden())
	must(t, expect.Locator(row.GetByTestId("token-status")).Not().ToHaveText("Revoked"))
	must(t, revoke.Click())
	must(t, button(dialog, "Revoke").Click())
	must(t, expect.Locator(row.GetByTestId("token-status")).ToHaveText("Revoked"))
	checkAccessibility(t, page, "tokens (revoked)")
	req, _ := http.NewRequest("GET", p.URL+"/api/v1/computes", nil)
	req.Header.Set("Authorization", "Bearer "+secret)
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a revoked token answered %d", resp.StatusCode)
	}

	_, err = page.Goto(p.URL + "/access")
	must(t, err)
	must(t, page.GetByRole("link", playwright.PageGetByRoleOptions{Name: "Tokens", Exact: playwright.Bool(true)}).Click())
	must(t, page.WaitForURL(p.URL+"/access/tokens"))
	must(t, expect.Locator(page.Locator(`tr[data-token="nightly report"]`)).ToContainText("Administrator"))
	screenshot(t, page, "access-tokens", false)
}
