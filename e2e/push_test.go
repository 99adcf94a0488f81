package e2e

import (
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mxschmitt/playwright-go"
)

// listening counts, in the page, what its stream of changes told it (each
// event, each opening of the stream), and notes when the
// element matched by watch first shows the state want.
func listening(t *testing.T, page playwright.Page, watch, want string) {
	t.Helper()
	must(t, page.AddInitScript(playwright.Script{Content: playwright.String(`
		window.__heard = 0;
		const streams = new WeakSet();
		document.addEventListener('htmx:sseOpen', (e) => {
			window.__heard++;
			window.__openAt = window.__openAt || Date.now();
			if (streams.has(e.detail.source)) return;
			streams.add(e.detail.source);
			e.detail.source.addEventListener('instance', () => window.__heard++);
		});
		// An answer app.js drops (read before an action on the same
		// instance) is fetched again once: counted here, on window, whose
		// listeners hear the event after app.js's on document.
		window.__dropped = 0;
		window.addEventListener('htmx:beforeSwap', (e) => {
			const cfg = e.detail.requestConfig;
			if (e.detail.shouldSwap === false && cfg && cfg.verb === 'get') window.__dropped++;
		});
		new MutationObserver(() => {
			const s = document.querySelector(` + "`" + watch + "`" + `);
			if (s && s.textContent.trim() === ` + "`" + want + "`" + ` && !window.__reachedAt) window.__reachedAt = Date.now();
		}).observe(document, {subtree: true, childList: true, characterData: true});
	`)}))
}

// requests counts the page's streams of changes, and, once started, the
// fetches of fetched (a row or the details) and anything else asked but
// the pages gone to and a post to allowedPost.
type requests struct {
	mu                   sync.Mutex
	started              bool
	fetches, streams     int
	others               []string
	fetched, allowedPost string
}

func countRequests(page playwright.Page, fetched, allowedPost string) *requests {
	r := &requests{fetched: fetched, allowedPost: allowedPost}
	page.On("request", func(req playwright.Request) {
		u, err := url.Parse(req.URL())
		if err != nil {
			return
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		if u.Path == "/events" {
			r.streams++
		}
		if !r.started {
			return
		}
		switch {
		case req.ResourceType() == "document": // a page the test goes to
		case u.Path == "/events":
		case u.Path == r.fetched && req.Method() == "GET":
			r.fetches++
		case u.Path == r.allowedPost && req.Method() == "POST":
		case strings.HasPrefix(u.Path, "/static/"):
		default:
			r.others = append(r.others, req.Method()+" "+u.Path)
		}
	})
	return r
}

func (r *requests) start() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.started = true
}

// check fails the test unless every fetch of the element answered an event
// or an opening of the stream, or asked again for an answer dropped because
// an action was out, and nothing else was asked but pages the test went to:
// no timer polls.
func (r *requests) check(t *testing.T, page playwright.Page) (fetches int, heard int) {
	t.Helper()
	v, err := page.Evaluate(`window.__heard`)
	must(t, err)
	heard = toInt(v)
	v, err = page.Evaluate(`window.__dropped`)
	must(t, err)
	dropped := toInt(v)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.streams == 0 {
		t.Error("the page opened no stream of changes")
	}
	if r.fetches > heard+dropped {
		t.Errorf("%s was fetched %d times for %d events and openings of the stream and %d answers dropped (read before an action): it polls", r.fetched, r.fetches, heard, dropped)
	}
	if len(r.others) > 0 {
		t.Errorf("the page also asked %v", r.others)
	}
	return r.fetches, heard
}

// TestCreateIsPushed: at emulator latency 0, a created instance's row
// reaches Running on the list by the page's stream of changes: every fetch
// of the row answers an event or the stream's opening, none a timer, and
// the page asks nothing else. The latency from the click to Running is
// logged, not asserted.
func TestCreateIsPushed(t *testing.T) {
	p := startPortal(t, "--emulator-latency", "0")
	page := newPage(t)
	signIn(t, page, p.URL, "admin@example.com", adminPassword)
	listening(t, page, `tr[data-name="pushed-box"] [data-testid="state"]`, "Running")
	reqs := countRequests(page, "/instances/pushed-box/row", "/instances")
	_, err := page.Goto(p.URL + "/instances/new")
	must(t, err)
	must(t, page.GetByLabel("Compute name").Fill("pushed-box"))
	must(t, expect.Locator(page.GetByTestId("name-message")).ToHaveText("This name is available."))
	reqs.start()
	clicked := time.Now()
	must(t, button(page.Locator("body"), "Create").Click())
	must(t, page.WaitForURL(p.URL+"/instances"))
	state := page.Locator(`tr[data-name="pushed-box"]`).GetByTestId("state")
	must(t, expect.Locator(state).ToHaveText("Running", playwright.LocatorAssertionsToHaveTextOptions{Timeout: playwright.Float(30000)}))
	fetches, heard := reqs.check(t, page)

	reached, err := page.Evaluate(`[window.__reachedAt || 0, Math.round(performance.timeOrigin), window.__openAt || 0]`)
	must(t, err)
	at := reached.([]any)
	if ms := toInt(at[0]); ms > 0 {
		t.Logf("click to Running: %d ms (the list's page began at %d ms, its stream opened at %d ms; %d row fetches, %d events and openings)",
			int64(ms)-clicked.UnixMilli(), int64(toInt(at[1]))-clicked.UnixMilli(), int64(toInt(at[2]))-clicked.UnixMilli(), fetches, heard)
	}
}

// TestDetailsArePushed: the details page of an instance stopped from it
// follows the stop to Stopped by its stream of changes alone.
func TestDetailsArePushed(t *testing.T) {
	p := startPortal(t)
	page := newPage(t)
	signIn(t, page, p.URL, "admin@example.com", adminPassword)
	listening(t, page, `#detail [data-testid="state"]`, "Stopped")
	reqs := countRequests(page, "/instances/pushed-details", "/instances/pushed-details/stop")
	_, err := page.Goto(p.URL + "/instances/new")
	must(t, err)
	must(t, page.GetByLabel("Compute name").Fill("pushed-details"))
	must(t, expect.Locator(page.GetByTestId("name-message")).ToHaveText("This name is available."))
	must(t, button(page.Locator("body"), "Create").Click())
	must(t, page.WaitForURL(p.URL+"/instances"))
	_, err = page.Goto(p.URL + "/instances/pushed-details")
	must(t, err)
	detail := page.GetByTestId("detail")
	must(t, expect.Locator(detail.GetByTestId("state")).ToHaveText("Running", playwright.LocatorAssertionsToHaveTextOptions{Timeout: playwright.Float(30000)}))
	_, err = page.WaitForFunction(`window.__openAt > 0`, nil)
	must(t, err)
	_, err = page.Evaluate(`window.__heard = 0; window.__dropped = 0`)
	must(t, err)
	reqs.start()
	must(t, button(detail, "Stop").Click())
	must(t, expect.Locator(detail.GetByTestId("state")).ToHaveText("Stopped", playwright.LocatorAssertionsToHaveTextOptions{Timeout: playwright.Float(30000)}))
	reqs.check(t, page)
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

// TestAPushKeepsWhatIsTyped: a change heard while a person types in the
// details page's form (the idle time) or ticks rows on the list swaps what
// shows the instance, and keeps what they typed, ticked and where the
// keyboard was; Save then saves what they typed.
func TestAPushKeepsWhatIsTyped(t *testing.T) {
	p := startPortal(t)
	page := newPage(t)
	signIn(t, page, p.URL, "admin@example.com", adminPassword)
	_, err := page.Goto(p.URL + "/instances/new")
	must(t, err)
	must(t, page.GetByLabel("Compute name").Fill("typed-into"))
	must(t, button(page.Locator("body"), "Create").Click())
	must(t, page.WaitForURL(p.URL+"/instances"))
	_, err = page.Goto(p.URL + "/instances/typed-into")
	must(t, err)
	detail := page.GetByTestId("detail")
	must(t, expect.Locator(detail.GetByTestId("state")).ToHaveText("Running", playwright.LocatorAssertionsToHaveTextOptions{Timeout: playwright.Float(30000)}))
	_, err = page.WaitForFunction(`window.__openAt > 0 || document.querySelector("[data-opened]")`, nil)
	must(t, err)
	idle := page.GetByLabel("Shut down after (minutes)")
	must(t, idle.Fill("120"))
	// Someone restarts it (here the same person, from another tab): the
	// details hear each change and fetch themselves again.
	_, err = page.Evaluate(`fetch("/instances/typed-into/restart", {method: "POST",
		body: new URLSearchParams({_csrf: document.querySelector("input[name=_csrf]").value})}).then(r => r.status)`)
	must(t, err)
	must(t, expect.Locator(detail.GetByTestId("state")).ToHaveText("Restarting", playwright.LocatorAssertionsToHaveTextOptions{Timeout: playwright.Float(30000)}))
	must(t, expect.Locator(detail.GetByTestId("state")).ToHaveText("Running", playwright.LocatorAssertionsToHaveTextOptions{Timeout: playwright.Float(30000)}))
	must(t, expect.Locator(idle).ToHaveValue("120"))
	must(t, expect.Locator(idle).ToBeFocused())
	must(t, button(page.Locator("body"), "Save idle shutdown").Click())
	must(t, expect.Locator(page.GetByTestId("idle-shutdown")).ToHaveText("After 2 hours without activity"))

	// The list: a row ticked for the toolbar stays ticked when its
	// instance changes.
	_, err = page.Goto(p.URL + "/instances")
	must(t, err)
	streamOpened(t, page)
	tick := page.GetByLabel("Select typed-into")
	must(t, tick.Check())
	_, err = page.Evaluate(`fetch("/instances/typed-into/restart", {method: "POST",
		body: new URLSearchParams({_csrf: document.querySelector("input[name=_csrf]").value})}).then(r => r.status)`)
	must(t, err)
	row := page.Locator(`tr[data-name="typed-into"]`)
	must(t, expect.Locator(row.GetByTestId("state")).ToHaveText("Restarting", playwright.LocatorAssertionsToHaveTextOptions{Timeout: playwright.Float(30000)}))
	must(t, expect.Locator(row.GetByTestId("state")).ToHaveText("Running", playwright.LocatorAssertionsToHaveTextOptions{Timeout: playwright.Float(30000)}))
	must(t, expect.Locator(tick).ToBeChecked())
}

// TestAPushKeepsAFieldsMessage: a key the portal refused stays in its field
// with the refusal's message while the details fetch themselves again for
// a change (a restart made from another tab): the fetch's answer knows
// nothing of the refusal, and used to take both away.
func TestAPushKeepsAFieldsMessage(t *testing.T) {
	p := startPortal(t)
	page := newPage(t)
	signIn(t, page, p.URL, "admin@example.com", adminPassword)
	_, err := page.Goto(p.URL + "/instances/new")
	must(t, err)
	must(t, page.GetByLabel("Compute name").Fill("refused-key"))
	must(t, page.GetByLabel("Enable SSH access").Check())
	must(t, page.GetByLabel("Set up an SSH key later").Check())
	must(t, button(page.Locator("body"), "Create").Click())
	must(t, page.WaitForURL(p.URL+"/instances"))
	detail := openDetails(t, page, p, "refused-key")
	key := page.GetByLabel("Your SSH public key")
	must(t, key.Fill("ssh-rsa AAAA"))
	must(t, button(page.Locator("main"), "Add key").Click())
	message := page.Locator("#add_ssh_public_key-error")
	must(t, expect.Locator(message).Not().ToBeEmpty())
	said, err := message.TextContent()
	must(t, err)
	_, err = page.Evaluate(`fetch("/instances/refused-key/restart", {method: "POST",
		body: new URLSearchParams({_csrf: document.querySelector("input[name=_csrf]").value})}).then(r => r.status)`)
	must(t, err)
	must(t, expect.Locator(detail.GetByTestId("state")).ToHaveText("Restarting", playwright.LocatorAssertionsToHaveTextOptions{Timeout: playwright.Float(30000)}))
	must(t, expect.Locator(detail.GetByTestId("state")).ToHaveText("Running", playwright.LocatorAssertionsToHaveTextOptions{Timeout: playwright.Float(30000)}))
	must(t, expect.Locator(key).ToHaveValue("ssh-rsa AAAA"))
	must(t, expect.Locator(key).ToHaveAttribute("aria-invalid", "true"))
	must(t, expect.Locator(message).ToHaveText(said))
	checkAccessibility(t, page, "a refused key kept through a push")
}

// TestAnActionOutlastsAFetchSentBeforeIt: a fetch of the details sent
// before an action on them (Stop, which swaps the details with its answer)
// and answered after it carries what was read before: it is dropped, the
// details fetch themselves again, and what the action showed is never
// taken back.
func TestAnActionOutlastsAFetchSentBeforeIt(t *testing.T) {
	p := startPortal(t, "--emulator-latency", "0")
	page := newPage(t)
	signIn(t, page, p.URL, "admin@example.com", adminPassword)
	createRunning(t, page, p, "slow-answer")
	detail := openDetails(t, page, p, "slow-answer")
	fetches, release := holdFirstFetch(t, page, "**/instances/slow-answer")
	hearChange(t, page, fetches)
	// Stop, while the fetch read before it is held: its answer shows.
	must(t, button(detail, "Stop").Click())
	must(t, expect.Locator(detail.GetByTestId("state")).ToHaveText(regexp.MustCompile(`^\s*Stopp(ing|ed)\s*$`)))
	_, err := page.Evaluate(`() => {
		window.statesShown = [];
		new MutationObserver(() => {
			const s = document.querySelector('#detail [data-testid="state"]');
			if (s) window.statesShown.push(s.textContent.trim());
		}).observe(document.getElementById("changes"), {subtree: true, childList: true, characterData: true});
	}`)
	must(t, err)
	// The answer read before the Stop (Running) comes back now: it is
	// dropped, and the details fetch themselves again.
	close(release)
	waitTold(t, fetches, "the answer read before the Stop was not fetched again")
	must(t, expect.Locator(detail.GetByTestId("state")).ToHaveText("Stopped", playwright.LocatorAssertionsToHaveTextOptions{Timeout: playwright.Float(30000)}))
	shown, err := page.Evaluate(`window.statesShown`)
	must(t, err)
	for _, s := range shown.([]any) {
		if s == "Running" {
			t.Fatalf("the details showed Running again after the Stop's answer (states shown: %v)", shown)
		}
	}
}

// TestAChangeHeardDuringAFetchIsShown: a change heard while the details'
// fetch is out queues another fetch (htmx queues the last on the details),
// sent once the first is answered; its answer is shown, though the first
// answer's swap came in between. Here the instance is stopped by another
// hand (a request outside the page's own actions) while the fetch that
// read it running is held.
func TestAChangeHeardDuringAFetchIsShown(t *testing.T) {
	p := startPortal(t, "--emulator-latency", "0")
	page := newPage(t)
	signIn(t, page, p.URL, "admin@example.com", adminPassword)
	createRunning(t, page, p, "queued-box")
	detail := openDetails(t, page, p, "queued-box")
	fetches, release := holdFirstFetch(t, page, "**/instances/queued-box")
	hearChange(t, page, fetches)
	stopElsewhere(t, page, "queued-box")
	close(release) // the answer read before the Stop (Running) is shown, then the queued fetch's
	must(t, expect.Locator(detail.GetByTestId("state")).ToHaveText("Stopped", playwright.LocatorAssertionsToHaveTextOptions{Timeout: playwright.Float(10000)}))
}

// TestAChangeHeardDuringTheListsFetchIsShown: a change heard while the
// list itself is fetched (here a search) may come after the portal read
// the list; the list's answer then replaces the row that fetched the
// change, and the row is fetched again. The instance is stopped by another
// hand while the search's answer, read while it ran, is held.
func TestAChangeHeardDuringTheListsFetchIsShown(t *testing.T) {
	p := startPortal(t, "--emulator-latency", "0")
	page := newPage(t)
	signIn(t, page, p.URL, "admin@example.com", adminPassword)
	createRunning(t, page, p, "listed-box")
	streamOpened(t, page)
	searched, release := holdFirstFetch(t, page, regexp.MustCompile(`/instances\?`))
	must(t, page.GetByLabel("Search by name").Fill("listed"))
	waitTold(t, searched, "the search was not sent")
	stopElsewhere(t, page, "listed-box")
	// The row in the page now, which the change's fetch filled, is the
	// list's answer's to replace.
	_, err := page.Evaluate(`() => { window.rowBefore = document.querySelector('tr[data-name="listed-box"]') }`)
	must(t, err)
	close(release) // the list read before the Stop (Running) is shown, then the row fetched again
	waitFor(t, page, `document.querySelector('tr[data-name="listed-box"]') !== window.rowBefore`)
	if n, err := page.Locator("[id=instance-list]").Count(); err != nil || n != 1 {
		t.Errorf("%d elements are #instance-list after the search (%v), want 1", n, err)
	}
	state := page.Locator(`tr[data-name="listed-box"]`).GetByTestId("state")
	must(t, expect.Locator(state).ToHaveText("Stopped", playwright.LocatorAssertionsToHaveTextOptions{Timeout: playwright.Float(10000)}))
}

// createRunning creates the instance name through the form and waits for
// the list to show it Running.
func createRunning(t testing.TB, page playwright.Page, p *portal, name string) {
	t.Helper()
	_, err := page.Goto(p.URL + "/instances/new")
	must(t, err)
	must(t, page.GetByLabel("Compute name").Fill(name))
	must(t, button(page.Locator("body"), "Create").Click())
	must(t, page.WaitForURL(p.URL+"/instances"))
	state := page.Locator(`tr[data-name="` + name + `"]`).GetByTestId("state")
	must(t, expect.Locator(state).ToHaveText("Running", playwright.LocatorAssertionsToHaveTextOptions{Timeout: playwright.Float(30000)}))
}

// openDetails opens the details page of the running instance name and
// waits for its stream of changes to open; it returns the details.
func openDetails(t *testing.T, page playwright.Page, p *portal, name string) playwright.Locator {
	t.Helper()
	_, err := page.Goto(p.URL + "/instances/" + name)
	must(t, err)
	detail := page.GetByTestId("detail")
	must(t, expect.Locator(detail.GetByTestId("state")).ToHaveText("Running", playwright.LocatorAssertionsToHaveTextOptions{Timeout: playwright.Float(30000)}))
	streamOpened(t, page)
	return detail
}

// streamOpened waits for the page's stream of changes to have opened
// (app.js marks its holder data-opened).
func streamOpened(t *testing.T, page playwright.Page) {
	t.Helper()
	waitFor(t, page, `document.querySelector("[data-opened]") !== null`)
}

// holdFirstFetch holds the first of htmx's GETs of an address that url
// matches (a glob or a regexp, as page.Route takes): the portal's answer
// is read when it is asked, and given to the page only once release is
// closed. Each such GET is told on the channel returned.
func holdFirstFetch(t *testing.T, page playwright.Page, url any) (fetches <-chan struct{}, release chan struct{}) {
	t.Helper()
	told := make(chan struct{}, 16)
	release = make(chan struct{})
	var held sync.Once
	must(t, page.Route(url, func(route playwright.Route) {
		req := route.Request()
		if h, _ := req.HeaderValue("hx-request"); req.Method() != "GET" || h == "" {
			_ = route.Continue()
			return
		}
		first := false
		held.Do(func() { first = true })
		select {
		case told <- struct{}{}:
		default: // told often enough: nobody waits for more
		}
		if !first {
			_ = route.Continue()
			return
		}
		resp, err := route.Fetch()
		if err != nil {
			_ = route.Abort()
			return
		}
		<-release
		_ = route.Fulfill(playwright.RouteFulfillOptions{Response: resp})
	}))
	return told, release
}

// stopElsewhere stops the instance name by another hand than the page's
// own actions (a request of its own), and waits until the portal has it
// stopped and the page's stream has told a change since.
func stopElsewhere(t *testing.T, page playwright.Page, name string) {
	t.Helper()
	_, err := page.Evaluate(`name => {
		window.changesHeard = 0;
		window.instancehubStream.source.addEventListener("instance", () => window.changesHeard++);
		return fetch("/instances/" + name + "/stop", {method: "POST", redirect: "manual",
			body: new URLSearchParams({_csrf: document.querySelector("input[name=_csrf]").value})}).then(r => r.type);
	}`, name)
	must(t, err)
	waitFor(t, page, `fetch("/instances/`+name+`/row").then(r => r.text()).then(t => t.includes("Stopped"))`)
	waitFor(t, page, `window.changesHeard > 0`)
}

// hearChange makes the details page hear that its instance changed, as its
// stream would tell it, and waits for the fetch it sends (told on fetches).
func hearChange(t *testing.T, page playwright.Page, fetches <-chan struct{}) {
	t.Helper()
	id, err := page.Locator("[data-id]").First().GetAttribute("data-id")
	must(t, err)
	_, err = page.Evaluate(`id => window.instancehubStream.source.dispatchEvent(new MessageEvent("instance", {data: id}))`, id)
	must(t, err)
	waitTold(t, fetches, "the details did not fetch themselves for the change")
}

// waitTold waits up to 30 s for a fetch told on fetches (holdFirstFetch),
// and fails the test with failure if none comes.
func waitTold(t *testing.T, fetches <-chan struct{}, failure string) {
	t.Helper()
	select {
	case <-fetches:
	case <-time.After(30 * time.Second):
		t.Fatal(failure)
	}
}

// TestTheStreamOpensEarly: the list's stream of changes opens while the
// page is parsed, before htmx starts (here held back), and it is the one
// stream the page holds: htmx's sse extension takes it over. A change heard
// before htmx took it over is shown: the row, Running when the page was
// served and so not fetched again on the stream's opening, follows a stop
// made and finished while htmx was held back.
func TestTheStreamOpensEarly(t *testing.T) {
	p := startPortal(t, "--emulator-latency", "0")
	page := newPage(t)
	signIn(t, page, p.URL, "admin@example.com", adminPassword)
	createRunning(t, page, p, "early-box")
	state := page.Locator(`tr[data-name="early-box"]`).GetByTestId("state")

	release := make(chan struct{})
	must(t, page.Route("**/vendor/htmx.min.js*", func(r playwright.Route) {
		go func() {
			<-release
			_ = r.Continue()
		}()
	}))
	reqs := countRequests(page, "/instances/early-box/row", "/instances/early-box/stop")
	_, err := page.Goto(p.URL+"/instances", playwright.PageGotoOptions{WaitUntil: playwright.WaitUntilStateCommit})
	must(t, err)
	waitFor(t, page, `window.instancehubStream && window.instancehubStream.opens > 0 && !window.htmx`)
	reqs.start()
	// The stop ends, and its changes are heard, before htmx starts.
	stopElsewhere(t, page, "early-box")
	waitFor(t, page, `window.instancehubStream.heard.length > 0`)
	close(release)
	must(t, expect.Locator(state).ToHaveText("Stopped", playwright.LocatorAssertionsToHaveTextOptions{Timeout: playwright.Float(10000)}))
	reqs.mu.Lock()
	streams := reqs.streams
	reqs.mu.Unlock()
	if streams != 1 {
		t.Errorf("the page asked for its stream of changes %d times, want 1 (htmx takes over the one opened early)", streams)
	}
}

// waitFor evaluates expr in the page until it is true (page.WaitForFunction
// would evaluate a string, which the portal's CSP refuses).
func waitFor(t *testing.T, page playwright.Page, expr string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		v, err := page.Evaluate(expr)
		must(t, err)
		if v == true {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still not true after 15 s: %s", expr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
