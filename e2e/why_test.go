package e2e

import (
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/mxschmitt/playwright-go"
)

// TestOffButtonsSayWhy: a row's or the details page's button that the
// state does not allow is reached by Tab, is described by its reason, shows
// it on focus, and pressing Enter on it sends nothing and changes nothing.
func TestOffButtonsSayWhy(t *testing.T) {
	p := startPortal(t, "--emulator-latency", "0.02")
	out, err := exec.Command(binary, "tokens", "create", "--data", p.Data, "--email", "admin@example.com", "--name", "seed").Output()
	must(t, err)
	cmd := exec.Command(binary, "compute", "create", "why-a", "--size", "Standard_DS1_v2", "--wait")
	cmd.Env = append(os.Environ(), "INSTANCEHUB_URL="+p.URL, "INSTANCEHUB_TOKEN="+strings.TrimSpace(string(out)))
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("compute create: %v\n%s", err, b)
	}
	page := newPage(t)
	signIn(t, page, p.URL, "admin@example.com", adminPassword)
	var starts atomic.Int32
	page.OnRequest(func(r playwright.Request) {
		if strings.HasSuffix(r.URL(), "/instances/why-a/start") {
			starts.Add(1)
		}
	})
	_, err = page.Evaluate(`window.__noReload = true`)
	must(t, err)

	row := page.Locator(`tr[data-name="why-a"]`)
	must(t, expect.Locator(row.GetByTestId("state")).ToHaveText("Running"))
	checkAccessibility(t, page, "list with an off row button")
	// The row's last application link, then Tab: the off Start is next.
	must(t, row.GetByRole("link", playwright.LocatorGetByRoleOptions{Name: "Terminal"}).Focus())
	must(t, page.Keyboard().Press("Tab"))
	start := button(row, "Start")
	must(t, expect.Locator(start).ToBeFocused())
	must(t, expect.Locator(start).ToHaveAttribute("aria-disabled", "true"))
	wantDescription(t, start, "Start is not available: the instance is running.")
	// Focus shows the same words as the button's tooltip.
	must(t, expect.Locator(start).ToHaveAttribute("data-why", "Start is not available: the instance is running."))
	tooltipInFrame(t, start)
	must(t, page.Keyboard().Press("Enter"))
	nothingHappened(t, page, &starts)
	must(t, expect.Locator(row.GetByTestId("state")).ToHaveText("Running"))

	must(t, row.GetByRole("link", playwright.LocatorGetByRoleOptions{Name: "why-a"}).Click())
	must(t, page.WaitForURL(p.URL+"/instances/why-a"))
	_, err = page.Evaluate(`window.__noReload = true`)
	must(t, err)
	header := page.GetByRole("toolbar", playwright.PageGetByRoleOptions{Name: "Actions on this instance"})
	start = button(header, "Start")
	must(t, expect.Locator(start).ToHaveAttribute("aria-disabled", "true"))
	wantDescription(t, start, "Start is not available: the instance is running.")
	checkAccessibility(t, page, "details with an off button")
	// Shift+Tab from Stop, the button after it, reaches it.
	must(t, button(header, "Stop").Focus())
	must(t, page.Keyboard().Press("Shift+Tab"))
	must(t, expect.Locator(start).ToBeFocused())
	must(t, page.Keyboard().Press("Enter"))
	nothingHappened(t, page, &starts)
	must(t, expect.Locator(page.GetByTestId("detail").GetByTestId("state")).ToHaveText("Running"))
}

// tooltipInFrame checks that the tooltip a row's button shows (its
// ::after) lies within the list's scrolling frame, which clips what passes
// its edges: here the list's one row, its last column.
func tooltipInFrame(t *testing.T, b playwright.Locator) {
	t.Helper()
	got, err := b.Evaluate(`b => {
		const tip = getComputedStyle(b, "::after");
		if (tip.content === "none" || tip.position !== "absolute") return "no tooltip shown";
		const r = b.getBoundingClientRect(), frame = b.closest(".table-wrap").getBoundingClientRect();
		// Positioned: its offsets and size are the used ones, from the
		// button's padding box (inside its 1px border).
		const left = r.left + 1 + parseFloat(tip.left), top = r.top + 1 + parseFloat(tip.top);
		const right = left + parseFloat(tip.width), bottom = top + parseFloat(tip.height);
		const within = left >= frame.left - 1 && right <= frame.right + 1 && top >= frame.top - 1 && bottom <= frame.bottom + 1;
		return within ? "" : "tooltip " + [left, top, right, bottom].map(Math.round) + " outside the frame " + [frame.left, frame.top, frame.right, frame.bottom].map(Math.round);
	}`, nil)
	must(t, err)
	if got != "" {
		t.Error(got)
	}
}

// wantDescription checks the words the button is described by, as a screen
// reader reads them: the text of the element its aria-describedby names.
func wantDescription(t *testing.T, b playwright.Locator, want string) {
	t.Helper()
	got, err := b.Evaluate(`b => (b.getAttribute("aria-describedby") || "").split(" ").map(id => document.getElementById(id)?.textContent ?? "").join(" ")`, nil)
	must(t, err)
	if got != want {
		t.Errorf("described by %q, want %q", got, want)
	}
}

// nothingHappened: after a round trip of the page's own, no Start was sent,
// the page was not replaced, and no toast came.
func nothingHappened(t *testing.T, page playwright.Page, starts *atomic.Int32) {
	t.Helper()
	_, err := page.Evaluate(`fetch("/healthz").then(r => r.status)`)
	must(t, err)
	if n := starts.Load(); n != 0 {
		t.Errorf("%d Start requests sent by an off button", n)
	}
	still, err := page.Evaluate(`window.__noReload === true`)
	must(t, err)
	if still != true {
		t.Error("the off button submitted its form: the page was replaced")
	}
	must(t, expect.Locator(page.GetByTestId("toast").Filter(playwright.LocatorFilterOptions{HasText: "Start"})).ToHaveCount(0))
}
