package e2e

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mxschmitt/playwright-go"
)

// TestCreateIsPushed: at emulator latency 0, a created instance's row
// reaches Running on the list by the page's stream of changes: every fetch
// of the row answers an event or the stream's opening, none a timer. The
// latency from the click to Running is logged, not asserted.
func TestCreateIsPushed(t *testing.T) {
	p := startPortal(t, "--emulator-latency", "0")
	page := newPage(t)
	signIn(t, page, p.URL, "admin@example.com", adminPassword)
	// Each page counts what its stream told it, and notes when the row
	// first says Running.
	must(t, page.AddInitScript(playwright.Script{Content: playwright.String(`
		window.__heard = 0;
		document.addEventListener('htmx:sseMessage', () => window.__heard++);
		document.addEventListener('htmx:sseOpen', () => { window.__heard++; window.__openAt = window.__openAt || Date.now(); });
		new MutationObserver(() => {
			const s = document.querySelector('tr[data-name="pushed-box"] [data-testid="state"]');
			if (s && s.textContent.trim() === 'Running' && !window.__runningAt) window.__runningAt = Date.now();
		}).observe(document, {subtree: true, childList: true, characterData: true});
	`)}))
	var mu sync.Mutex
	rowFetches, streams := 0, 0
	page.On("request", func(r playwright.Request) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case strings.HasSuffix(r.URL(), "/instances/pushed-box/row"):
			rowFetches++
		case strings.HasSuffix(r.URL(), "/events"):
			streams++
		}
	})
	_, err := page.Goto(p.URL + "/instances/new")
	must(t, err)
	must(t, page.GetByLabel("Compute name").Fill("pushed-box"))
	must(t, expect.Locator(page.GetByTestId("name-message")).ToHaveText("This name is available."))
	clicked := time.Now()
	must(t, button(page.Locator("body"), "Create").Click())
	must(t, page.WaitForURL(p.URL+"/instances"))
	state := page.Locator(`tr[data-name="pushed-box"]`).GetByTestId("state")
	must(t, expect.Locator(state).ToHaveText("Running", playwright.LocatorAssertionsToHaveTextOptions{Timeout: playwright.Float(30000)}))

	heard, err := page.Evaluate(`window.__heard`)
	must(t, err)
	runningAt, err := page.Evaluate(`window.__runningAt || 0`)
	must(t, err)
	phases, err := page.Evaluate(`[Math.round(performance.timeOrigin), window.__openAt || 0]`)
	must(t, err)
	mu.Lock()
	defer mu.Unlock()
	if streams == 0 {
		t.Error("the list opened no stream of changes")
	}
	if n := toInt(heard); rowFetches > n {
		t.Errorf("the row was fetched %d times for %d events and openings of its stream: it polls", rowFetches, n)
	}
	if ms := toInt(runningAt); ms > 0 {
		at := phases.([]any)
		t.Logf("click to Running: %d ms (the list's page began at %d ms, its stream opened at %d ms; %d row fetches, %v events and openings)",
			int64(ms)-clicked.UnixMilli(), int64(toInt(at[0]))-clicked.UnixMilli(), int64(toInt(at[1]))-clicked.UnixMilli(), rowFetches, heard)
	}
}

func toInt(v any) int {
	switch n := v.(type) {
	case int:
		return n
	case int64:
		return int(n)
	case float64:
		return int(n)
	}
	return 0
}
