package e2e

import (
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/mxschmitt/playwright-go"
)

// TestApplicationsJourney: the owner opens Jupyter from the instance's row
// and lands on an origin of its own, where a real Jupyter runs print(6*7)
// in a Python kernel; another Owner of the workspace is refused at the same
// address; Stop asks first, a notebook being connected; after Stop the
// links are text and the open kernel's socket is closed.
func TestApplicationsJourney(t *testing.T) {
	if _, err := exec.LookPath("jupyter"); err != nil {
		t.Fatal("jupyter is not installed: run `make test`, which installs Debian's jupyter-notebook")
	}
	p := startPortal(t)
	p.addUser(t, "olga@example.com", "Olga Owner", "olga-password-1")
	p.assignRole(t, "olga@example.com", "Owner")
	page := newPage(t)
	signIn(t, page, p.URL, "admin@example.com", adminPassword)
	body := page.Locator("body")
	must(t, button(body, "New").Click())
	must(t, page.GetByLabel("Compute name").Fill("lab-box"))
	must(t, expect.Locator(page.GetByTestId("name-message")).ToHaveText("This name is available."))
	must(t, button(body, "Create").Click())
	must(t, page.WaitForURL(p.URL+"/instances"))
	row := page.Locator(`tr[data-name="lab-box"]`)
	must(t, expect.Locator(row.GetByTestId("state")).ToHaveText("Running", playwright.LocatorAssertionsToHaveTextOptions{Timeout: playwright.Float(45000)}))

	// Jupyter opens in a new tab, on its own origin.
	jupyter, err := page.Context().ExpectPage(func() error {
		return row.GetByRole("link", playwright.LocatorGetByRoleOptions{Name: "Jupyter", Exact: playwright.Bool(true)}).Click()
	})
	must(t, err)
	must(t, jupyter.WaitForURL("**/tree**", playwright.PageWaitForURLOptions{Timeout: playwright.Float(60000)}))
	origin := strings.SplitN(jupyter.URL(), "/tree", 2)[0]
	if !strings.HasPrefix(origin, "http://lab-box--jupyter.apps.localhost:") || strings.HasPrefix(origin, p.URL) {
		t.Fatalf("Jupyter opened at %s", jupyter.URL())
	}
	// A notebook, made through Jupyter's own API on its origin, runs print(6*7).
	// Jupyter's answer comes without its CORS headers, which named the
	// address the gateway reaches it at.
	put, err := jupyter.Evaluate(`fetch("/api/contents/e2e.ipynb", {method: "PUT", headers: {"Content-Type": "application/json"},
		body: JSON.stringify({type: "notebook", content: {cells: [], metadata: {kernelspec: {name: "python3", display_name: "Python 3", language: "python"}}, nbformat: 4, nbformat_minor: 5}})})
		.then(r => [r.status, ...[...r.headers].filter(([k, v]) => k.startsWith("access-control-") || v.includes("127.0.0.1")).map(([k, v]) => k + ": " + v)].join("\n"))`)
	must(t, err)
	if put != "201" {
		t.Errorf("creating a notebook through the gateway answered:\n%v\nwant 201 and no header naming the upstream", put)
	}
	// Only the exact names answer: with a trailing dot, the application's
	// host is no application, and the portal's is not the portal.
	port := origin[strings.LastIndex(origin, ":")+1:]
	for host, want := range map[string]int{"lab-box--jupyter.apps.localhost.:" + port: http.StatusNotFound, "localhost.:" + port: http.StatusMisdirectedRequest} {
		req, _ := http.NewRequest(http.MethodGet, p.URL+"/login", nil)
		req.Host = host
		res, err := http.DefaultClient.Do(req)
		must(t, err)
		res.Body.Close()
		if res.StatusCode != want {
			t.Errorf("Host %s: %d, want %d", host, res.StatusCode, want)
		}
	}
	_, err = jupyter.Goto(origin + "/notebooks/e2e.ipynb")
	must(t, err)
	must(t, expect.Locator(jupyter.Locator("#kernel_indicator_icon.kernel_idle_icon")).ToBeAttached(playwright.LocatorAssertionsToBeAttachedOptions{Timeout: playwright.Float(60000)}))
	must(t, jupyter.Locator(".cell .CodeMirror").First().Click())
	must(t, jupyter.Keyboard().Type("print(6*7)"))
	must(t, jupyter.Keyboard().Press("Shift+Enter"))
	must(t, expect.Locator(jupyter.Locator(".output_subarea").First()).ToHaveText("42", playwright.LocatorAssertionsToHaveTextOptions{Timeout: playwright.Float(30000)}))

	// The Terminal opens from the row, on an origin of its own, in the
	// owner's folder, and runs a command whose file Jupyter then serves.
	terminal, err := page.Context().ExpectPage(func() error {
		return row.GetByRole("link", playwright.LocatorGetByRoleOptions{Name: "Terminal", Exact: playwright.Bool(true)}).Click()
	})
	must(t, err)
	must(t, terminal.WaitForURL("**/terminals/1", playwright.PageWaitForURLOptions{Timeout: playwright.Float(60000)}))
	if !strings.HasPrefix(terminal.URL(), "http://lab-box--terminal.apps.localhost:") {
		t.Fatalf("Terminal opened at %s", terminal.URL())
	}
	must(t, expect.Locator(terminal.Locator(".xterm")).ToBeVisible(playwright.LocatorAssertionsToBeVisibleOptions{Timeout: playwright.Float(30000)}))
	must(t, terminal.Locator(".xterm").Click())
	must(t, terminal.Keyboard().Type(`echo $((6*7)) > from-terminal.txt`))
	must(t, terminal.Keyboard().Press("Enter"))
	_, err = jupyter.WaitForFunction(`() => fetch("/api/contents/from-terminal.txt?content=1").then(r => r.ok ? r.json() : {}).then(f => f.content === "42\n")`,
		nil, playwright.PageWaitForFunctionOptions{Timeout: playwright.Float(20000), Polling: playwright.Float(500)})
	must(t, err)

	// The details page tells of the use: the last activity the gateway saw,
	// and the kernel and terminal Jupyter reports. It never waits for
	// Jupyter: what Jupyter said is asked in the background and kept for
	// 10 s, so a view shows it once asked (reloaded until then).
	inUse := "1 kernel (1 connected); 1 terminal open"
	for deadline := time.Now().Add(30 * time.Second); ; {
		_, err = page.Goto(p.URL + "/instances/lab-box")
		must(t, err)
		shown, err := page.GetByTestId("in-use").AllTextContents()
		must(t, err)
		if len(shown) == 1 && strings.Join(strings.Fields(shown[0]), " ") == inUse {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the details page says %q of the use, want %q", shown, inUse)
		}
		time.Sleep(200 * time.Millisecond)
	}
	must(t, expect.Locator(page.GetByTestId("last-activity").Locator("time")).ToBeVisible())
	must(t, expect.Locator(page.GetByTestId("in-use")).ToHaveText(inUse))
	screenshot(t, page, "details-applications", true)
	screenshot(t, terminal, "terminal", false)
	_, err = page.Goto(p.URL + "/instances")
	must(t, err)

	// Another Owner of the workspace is refused at the same address.
	olga := newPage(t)
	signIn(t, olga, p.URL, "olga@example.com", "olga-password-1")
	resp, err := olga.Goto(origin + "/tree")
	must(t, err)
	if resp.Status() < 400 {
		// No sign-in there yet: sent to the portal, which refuses her.
		must(t, expect.Locator(olga.Locator("body")).ToContainText("Only the owner of lab-box"))
	}
	_, err = olga.Goto(p.URL + "/instances/lab-box/apps/jupyter/")
	must(t, err)
	must(t, expect.Locator(olga.Locator("body")).ToContainText("Only the owner of lab-box"))

	// Stop asks first: a notebook is connected and a terminal open. Cancel
	// keeps the instance running; confirmed, it stops.
	must(t, button(row, "Stop").Click())
	dialog := page.GetByRole("dialog")
	must(t, expect.Locator(dialog).ToContainText("Stop lab-box?"))
	must(t, expect.Locator(dialog).ToContainText("1 notebook connected and 1 terminal open: unsaved changes will be lost."))
	must(t, dialog.GetByRole("button", playwright.LocatorGetByRoleOptions{Name: "Cancel"}).Click())
	must(t, expect.Locator(row.GetByTestId("state")).ToHaveText("Running"))
	must(t, button(row, "Stop").Click())
	must(t, dialog.GetByRole("button", playwright.LocatorGetByRoleOptions{Name: "Stop", Exact: playwright.Bool(true)}).Click())

	// After Stop the links are text, and the kernel's socket closes.
	must(t, expect.Locator(row.GetByTestId("state")).ToHaveText("Stopped", playwright.LocatorAssertionsToHaveTextOptions{Timeout: playwright.Float(30000)}))
	must(t, expect.Locator(row.GetByRole("link", playwright.LocatorGetByRoleOptions{Name: "Jupyter", Exact: playwright.Bool(true)})).ToHaveCount(0))
	_, err = jupyter.WaitForFunction(`() => !Jupyter.notebook.kernel.is_connected()`, nil, playwright.PageWaitForFunctionOptions{Timeout: playwright.Float(20000)})
	must(t, err)
}
