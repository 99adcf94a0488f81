package e2e

import (
	"fmt"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/mxschmitt/playwright-go"
)

// timeline is where, in the page, the time from a click on Create to the
// new row showing Running goes; every figure is in ms after the click.
const timeline = `
	window.__t = {};
	const want = sessionStorage.getItem("__watch");
	const mark = (k) => { if (want && !window.__t[k]) window.__t[k] = Date.now(); };
	document.addEventListener("click", (e) => {
		if (e.target.closest && e.target.closest("button") && e.target.closest("button").textContent.trim() === "Create")
			sessionStorage.setItem("__clickAt", String(Date.now()));
	}, true);
	document.addEventListener("DOMContentLoaded", () => mark("ready"));
	const Source = window.EventSource;
	window.EventSource = function (url, options) {
		const s = new Source(url, options);
		mark("connect");
		s.addEventListener("open", () => mark("open"));
		s.addEventListener("instance", () => mark("event"));
		return s;
	};
	Object.assign(window.EventSource, {CONNECTING: 0, OPEN: 1, CLOSED: 2, prototype: Source.prototype});
	new MutationObserver(() => {
		const s = want && document.querySelector('tr[data-name="' + want + '"] [data-testid="state"]');
		if (s && s.textContent.trim() === "Running") mark("running");
	}).observe(document, {subtree: true, childList: true, characterData: true});
`

// timelineResult reads the marks back, in ms after the click: the page's
// navigation (the POST) starting, its answer's first byte (after the
// redirect), the page ready (DOMContentLoaded), the stream asked for and
// open, the first event, Running.
const timelineResult = `(() => {
	const click = Number(sessionStorage.getItem("__clickAt"));
	const nav = performance.getEntriesByType("navigation")[0];
	const at = (ms) => ms ? Math.round(ms - click) : -1;
	const o = performance.timeOrigin;
	return [at(o), at(o + nav.responseStart), at(window.__t.ready), at(window.__t.connect), at(window.__t.open), at(window.__t.event), at(window.__t.running), click];
})()`

// succeeded finds when each create ended, in the portal's log.
var succeeded = regexp.MustCompile(`time=(\S+) level=INFO msg="operation succeeded" .*kind=Create instance=(\S+)`)

// BenchmarkClickToRunning measures, in Chromium, the time from a click on
// Create (emulator latency 0) to the list's new row showing Running, b.N
// times, and reports its median and max with the median of each step on
// the way (ms after the click) and of the operation's own duration. Run:
//
//	go test ./e2e -run '^$' -bench ClickToRunning -benchtime 10x
func BenchmarkClickToRunning(b *testing.B) {
	p := startPortal(b, "--emulator-latency", "0", "--emulator-quota",
		"eastus/cores=100000,eastus/standardDSv2Family=100000,eastus/standardDSv3Family=100000,eastus/standardESv3Family=100000,eastus/standardFSv2Family=100000")
	page := newPage(b)
	signIn(b, page, p.URL, "admin@example.com", adminPassword)
	must(b, page.AddInitScript(playwright.Script{Content: playwright.String(timeline)}))
	steps := []string{"nav", "first-byte", "ready", "connect", "open", "event", "running"}
	marks := make([][]float64, len(steps))
	clicks := map[string]int64{}
	shown := map[string]float64{} // Running, ms after the click
	for i := 0; b.Loop(); i++ {
		name := fmt.Sprintf("click-%c%c", 'a'+i/26%26, 'a'+i%26)
		_, err := page.Goto(p.URL + "/instances/new")
		must(b, err)
		_, err = page.Evaluate(`(n) => sessionStorage.setItem("__watch", n)`, name)
		must(b, err)
		must(b, page.GetByLabel("Compute name").Fill(name))
		must(b, expect.Locator(page.GetByTestId("name-message")).ToHaveText("This name is available."))
		must(b, button(page.Locator("body"), "Create").Click())
		must(b, page.WaitForURL(p.URL+"/instances"))
		state := page.Locator(`tr[data-name="` + name + `"]`).GetByTestId("state")
		must(b, expect.Locator(state).ToHaveText("Running", playwright.LocatorAssertionsToHaveTextOptions{Timeout: playwright.Float(30000)}))
		v, err := page.Evaluate(timelineResult)
		must(b, err)
		at := v.([]any)
		for k := range steps {
			marks[k] = append(marks[k], float64(toInt(at[k])))
		}
		clicks[name] = int64(toInt(at[len(steps)]))
		shown[name] = float64(toInt(at[len(steps)-1]))
	}
	b.StopTimer()
	// The operation's end, by the portal's log, in ms after the click, and
	// from there to the row showing Running.
	var ops, pushed []float64
	for _, m := range succeeded.FindAllStringSubmatch(p.logText(), -1) {
		end, err := time.Parse(time.RFC3339Nano, m[1])
		if click, ok := clicks[m[2]]; ok && err == nil {
			ops = append(ops, float64(end.UnixMilli()-click))
			pushed = append(pushed, shown[m[2]]-float64(end.UnixMilli()-click))
		}
	}
	running := marks[len(marks)-1]
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(median(running), "click-to-running-median-ms")
	b.ReportMetric(slices.Max(running), "click-to-running-max-ms")
	for k, s := range steps[:len(steps)-1] {
		b.ReportMetric(median(marks[k]), s+"-median-ms")
	}
	if len(ops) > 0 {
		b.ReportMetric(median(ops), "operation-ended-median-ms")
		b.ReportMetric(median(pushed), "change-to-running-median-ms")
		b.ReportMetric(slices.Max(pushed), "change-to-running-max-ms")
	}
	b.Logf("click to Running, ms, each run: %v; the operation ended at, ms: %v; from there to Running: %v", running, ops, pushed)
}

func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// restarted finds when each restart ended, in the portal's log.
var restarted = regexp.MustCompile(`time=(\S+) level=INFO msg="operation succeeded" .*kind=Restart instance=(\S+)`)

// BenchmarkChangeIsShown measures how soon a page open on the list shows
// a change of one of its instances (emulator latency 0.15, as the browser
// tests'): a restart is posted from the page (script, so that nothing but
// the push swaps the row), and the row shows Restarting, then Running.
// Reported: from the post to Restarting shown (the action's handling, its
// commit, the event, the row's fetch and swap), and from the restart's end
// in the portal's log to Running shown (the push alone), median and max.
//
//	go test ./e2e -run '^$' -bench ChangeIsShown -benchtime 10x
func BenchmarkChangeIsShown(b *testing.B) {
	p := startPortal(b)
	page := newPage(b)
	signIn(b, page, p.URL, "admin@example.com", adminPassword)
	createRunning(b, page, p, "shown-box")
	state := page.Locator(`tr[data-name="shown-box"]`).GetByTestId("state")
	var toRestarting, toRunning []float64
	for b.Loop() {
		_, err := page.Goto(p.URL + "/instances")
		must(b, err)
		must(b, expect.Locator(page.Locator("#changes[data-opened]")).ToHaveCount(1))
		v, err := page.Evaluate(`() => {
			window.__seen = {};
			new MutationObserver(() => {
				const s = document.querySelector('tr[data-name="shown-box"] [data-testid="state"]');
				const t = s && s.textContent.trim();
				if (t && !window.__seen[t]) window.__seen[t] = Date.now();
			}).observe(document, {subtree: true, childList: true, characterData: true});
			const sent = Date.now();
			return fetch("/instances/shown-box/restart", {method: "POST",
				body: new URLSearchParams({_csrf: document.querySelector("input[name=_csrf]").value})}).then(() => sent);
		}`)
		must(b, err)
		sent := int64(toInt(v))
		must(b, expect.Locator(state).ToHaveText("Restarting", playwright.LocatorAssertionsToHaveTextOptions{Timeout: playwright.Float(30000)}))
		must(b, expect.Locator(state).ToHaveText("Running", playwright.LocatorAssertionsToHaveTextOptions{Timeout: playwright.Float(30000)}))
		seen, err := page.Evaluate(`[window.__seen.Restarting || 0, window.__seen.Running || 0]`)
		must(b, err)
		at := seen.([]any)
		ends := restarted.FindAllStringSubmatch(p.logText(), -1)
		if len(ends) == 0 {
			b.Fatal("no restart ended in the portal's log")
		}
		end, err := time.Parse(time.RFC3339Nano, ends[len(ends)-1][1])
		must(b, err)
		toRestarting = append(toRestarting, float64(int64(toInt(at[0]))-sent))
		toRunning = append(toRunning, float64(int64(toInt(at[1]))-end.UnixMilli()))
	}
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(median(toRestarting), "post-to-restarting-median-ms")
	b.ReportMetric(slices.Max(toRestarting), "post-to-restarting-max-ms")
	b.ReportMetric(median(toRunning), "change-to-running-median-ms")
	b.ReportMetric(slices.Max(toRunning), "change-to-running-max-ms")
	b.Logf("post to Restarting, ms: %v; the restart's end to Running, ms: %v", toRestarting, toRunning)
}
