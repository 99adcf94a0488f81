package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/mxschmitt/playwright-go"
)

// TestSiblingSiteCannotForgeChanges replays the cookie-tossing attack in
// Chromium: a page on a sibling subdomain (same site, another origin) sets a
// token cookie for the whole domain and posts a form with the same token to
// make a Reader an Owner, while an Owner is signed in. Chromium resolves
// every *.localhost name to the loopback address, so portal.example.localhost
// and evil.example.localhost are two origins of one site.
func TestSiblingSiteCannotForgeChanges(t *testing.T) {
	p := startPortal(t)
	p.addUser(t, "rita@example.com", "Rita Reader", "rita-password-1")
	p.assignRole(t, "rita@example.com", "Reader")
	u, _ := url.Parse(p.URL)
	portal := "http://portal.example.localhost:" + u.Port()

	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>Cute cats</title>
<script>document.cookie = "instancehub_csrf=tossed; domain=example.localhost; path=/";</script>
<form id="f" method="post" action="%s/access">
<input name="email" value="rita@example.com"><input name="role" value="Owner"><input name="_csrf" value="tossed">
</form><script>document.getElementById("f").submit();</script>`, portal)
	}))
	defer evil.Close()
	e, _ := url.Parse(evil.URL)

	page := newPage(t)
	signIn(t, page, portal, "admin@example.com", adminPassword)
	_, err := page.Goto("http://evil.example.localhost:" + e.Port() + "/")
	must(t, err)
	must(t, page.WaitForURL(portal+"/access"))
	must(t, expect.Locator(page.GetByRole("heading", playwright.PageGetByRoleOptions{Name: "Not allowed"})).ToBeVisible())
	must(t, expect.Locator(page.GetByText("did not come from this portal's own page")).ToBeVisible())

	// Rita is still a Reader only, and the refusal is in the audit log.
	_, err = page.Goto(portal + "/access")
	must(t, err)
	rows := page.Locator(`[data-testid="assignment-row"][data-email="rita@example.com"]`)
	must(t, expect.Locator(rows).ToHaveCount(1))
	if role, _ := rows.First().GetAttribute("data-role"); role != "Reader" {
		t.Errorf("Rita's role after the forged request: %q", role)
	}
	_, err = page.Goto(portal + "/audit?action=request.csrf")
	must(t, err)
	must(t, expect.Locator(page.Locator(`[data-testid="audit-row"][data-action="request.csrf"]`)).Not().ToHaveCount(0))
	if body, _ := page.Content(); !strings.Contains(body, "POST /access") {
		t.Errorf("the audit log does not name the refused request")
	}
}
