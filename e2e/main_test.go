// Package e2e drives the real program in Debian's Chromium with
// playwright-go: each test starts instancehub on port 0 with a fresh data
// directory and the offline emulator, as a person would with `make run`.
package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mxschmitt/playwright-go"
)

var (
	binary  string // the program under test, built once
	browser playwright.Browser
	expect  = playwright.NewPlaywrightAssertions(15000)
)

const adminPassword = "e2e-admin-password"

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

// run builds the program and starts one browser for every test. A browser
// that cannot start fails the run: browser tests are never skipped.
func run(m *testing.M) int {
	tmp, err := os.MkdirTemp("", "instancehub-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	// INSTANCEHUB_E2E_BINARY runs another build instead (a benchmark's
	// "before", built from an earlier commit).
	binary = os.Getenv("INSTANCEHUB_E2E_BINARY")
	if binary == "" {
		binary = filepath.Join(tmp, "instancehub")
		build := exec.Command("go", "build", "-o", binary, "../cmd/instancehub")
		build.Stdout, build.Stderr = os.Stdout, os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "e2e: build instancehub:", err)
			return 1
		}
	}
	pw, err := playwright.Run(&playwright.RunOptions{DriverDirectory: driverDir(), SkipInstallBrowsers: true, Verbose: false})
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: start playwright (run `make test`, which prepares .pw-driver):", err)
		return 1
	}
	defer pw.Stop()
	browser, err = pw.Chromium.Launch(playwright.BrowserTypeLaunchOptions{
		ExecutablePath: playwright.String(chromiumPath()),
		Headless:       playwright.Bool(true),
		Args: []string{"--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
			"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: launch Chromium at", chromiumPath(), "(run `make test`, which installs it):", err)
		return 1
	}
	defer browser.Close()
	return m.Run()
}

func driverDir() string {
	if dir := os.Getenv("PLAYWRIGHT_DRIVER_PATH"); dir != "" {
		return dir
	}
	abs, _ := filepath.Abs("../.pw-driver")
	return abs
}

func chromiumPath() string {
	if p := os.Getenv("INSTANCEHUB_CHROMIUM"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

// portal is a running instancehub.
type portal struct {
	URL  string
	Data string
	cmd  *exec.Cmd
	mu   sync.Mutex
	log  bytes.Buffer
}

var servingLine = regexp.MustCompile(`msg="serving the portal" url=(\S+)`)

// startPortal runs the program on a free port over a new data directory.
func startPortal(t testing.TB, args ...string) *portal {
	t.Helper()
	p := &portal{Data: t.TempDir()}
	args = append([]string{"serve", "--addr", "127.0.0.1:0", "--data", p.Data, "--emulator-latency", "0.15",
		"--sync-interval", "2s"}, args...)
	p.cmd = exec.Command(binary, args...)
	p.cmd.Env = append(os.Environ(), "INSTANCEHUB_ADMIN_PASSWORD="+adminPassword, "INSTANCEHUB_ADMIN_EMAIL=admin@example.com")
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.log.WriteString(line + "\n")
			p.mu.Unlock()
			if m := servingLine.FindStringSubmatch(line); m != nil {
				urls <- m[1]
			}
		}
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		_ = p.cmd.Wait()
		if t.Failed() {
			t.Logf("instancehub log:\n%s", p.logText())
		}
	})
	select {
	case p.URL = <-urls:
	case <-time.After(30 * time.Second):
		t.Fatalf("instancehub did not start:\n%s", p.logText())
	}
	return p
}

func (p *portal) logText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// addUser adds a local account with the program's own command.
func (p *portal) addUser(t *testing.T, email, name, password string) {
	t.Helper()
	cmd := exec.Command(binary, "users", "add", "--data", p.Data, "--email", email, "--name", name)
	cmd.Stdin = strings.NewReader(password + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("users add: %v\n%s", err, out)
	}
}

// assignRole gives a user a role with the program's own command.
func (p *portal) assignRole(t *testing.T, email, role string) {
	t.Helper()
	cmd := exec.Command(binary, "roles", "assign", "--data", p.Data, "--email", email, "--role", role)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("roles assign: %v\n%s", err, out)
	}
}

// newPage opens a page in a fresh browser context (its own cookies) and
// fails the test on any script error.
func newPage(t testing.TB) playwright.Page {
	t.Helper()
	ctx, err := browser.NewContext(playwright.BrowserNewContextOptions{
		Viewport: &playwright.Size{Width: 1440, Height: 900},
		Locale:   playwright.String("en-US"),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ctx.Close() })
	// A page torn down with its test (its context closed while a request
	// is out, a route's fetch refused) logs errors that are not the
	// portal's: only those logged while the test runs count.
	var ended atomic.Bool
	t.Cleanup(func() { ended.Store(true) }) // before the context closes
	page, err := ctx.NewPage()
	if err != nil {
		t.Fatal(err)
	}
	page.On("pageerror", func(err error) {
		if !ended.Load() {
			t.Errorf("script error: %v", err)
		}
	})
	page.On("console", func(m playwright.ConsoleMessage) {
		// Refusals (4xx) are expected where a test provokes them; htmx and
		// Chromium both log them.
		if m.Type() == "error" && !ended.Load() && !strings.Contains(m.Text(), "status of 4") && !strings.Contains(m.Text(), "Response Status Error Code 4") {
			t.Errorf("console error at %s: %s", m.Location().URL, m.Text())
		}
	})
	return page
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func signIn(t testing.TB, page playwright.Page, base, email, password string) {
	t.Helper()
	_, err := page.Goto(base + "/login")
	must(t, err)
	must(t, page.GetByLabel("Email").Fill(email))
	must(t, page.GetByLabel("Password").Fill(password))
	must(t, page.GetByRole("button", playwright.PageGetByRoleOptions{Name: "Sign in"}).Click())
	must(t, page.WaitForURL(base+"/instances"))
}

// button finds the button named exactly name within scope.
func button(scope playwright.Locator, name string) playwright.Locator {
	return scope.GetByRole("button", playwright.LocatorGetByRoleOptions{Name: name, Exact: playwright.Bool(true)})
}

// screenshot saves a picture of the page in e2e/artifacts, and into
// docs/screenshots when INSTANCEHUB_UPDATE_SCREENSHOTS is set.
func screenshot(t *testing.T, page playwright.Page, name string, full bool) {
	t.Helper()
	// Every state worth a picture is checked for accessibility too.
	checkAccessibility(t, page, name)
	if full {
		// A sticky top bar would otherwise be drawn where the page was scrolled.
		_, err := page.Evaluate(`window.scrollTo(0, 0)`)
		must(t, err)
	}
	dirs := []string{"artifacts"}
	if os.Getenv("INSTANCEHUB_UPDATE_SCREENSHOTS") != "" {
		dirs = append(dirs, "../docs/screenshots")
	}
	for _, dir := range dirs {
		must(t, os.MkdirAll(dir, 0o755))
		_, err := page.Screenshot(playwright.PageScreenshotOptions{Path: playwright.String(filepath.Join(dir, name+".png")), FullPage: playwright.Bool(full)})
		must(t, err)
	}
}

// axeSource is axe-core's browser build, from npm (make test installs it).
var axeSource = sync.OnceValues(func() (string, error) {
	b, err := os.ReadFile(filepath.Join("..", "node_modules", "axe-core", "axe.min.js"))
	return string(b), err
})

// checkAccessibility runs axe-core on the page as it is now and fails the
// test on every violation, naming its rule and the first elements.
// Applications' own pages (Jupyter's) are not the portal's to fix.
func checkAccessibility(t *testing.T, page playwright.Page, where string) {
	t.Helper()
	if strings.Contains(page.URL(), ".apps.localhost") {
		return
	}
	src, err := axeSource()
	if err != nil {
		t.Fatalf("axe-core is not installed (make test installs it from npm): %v", err)
	}
	_, err = page.Evaluate(src)
	must(t, err)
	// A toast fading in has, for a moment, the contrast of half its
	// colours: axe looks at the page once its finite animations ended.
	_, err = page.Evaluate(`Promise.all(document.getAnimations()
		.filter(a => a.effect && a.effect.getTiming().iterations !== Infinity)
		.map(a => a.finished.catch(() => null)))`)
	must(t, err)
	found, err := page.Evaluate(`axe.run(document, {resultTypes: ["violations"]}).then(r => r.violations.map(v =>
		v.id + " (" + v.impact + "): " + v.nodes.slice(0, 3).map(n => n.target.join(" ") + " " + (n.failureSummary || "").split("\n").slice(1, 2).join("")).join("; ")))`)
	must(t, err)
	list, _ := found.([]any)
	for _, v := range list {
		t.Errorf("accessibility, %s: %v", where, v)
	}
}
