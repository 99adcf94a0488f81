package apps

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
)

// signedIn tells whether browser c holds the gateway's cookie for host.
func signedIn(c *http.Client, host string) bool {
	for _, ck := range c.Jar.Cookies(&url.URL{Scheme: "http", Host: host}) {
		if ck.Name == cookieBase {
			return true
		}
	}
	return false
}

// stateCookiesOf are the state cookies browser c holds for host.
func stateCookiesOf(c *http.Client, host string) []*http.Cookie {
	var found []*http.Cookie
	for _, ck := range c.Jar.Cookies(&url.URL{Scheme: "http", Host: host}) {
		if strings.HasPrefix(ck.Name, stateBase) {
			found = append(found, ck)
		}
	}
	return found
}

// TestTicketOpensOnlyInTheBrowserThatAsked: a ticket is redeemed only with
// the state cookie of the browser it was made for. Refused: a client with
// no cookies (a ticket read from a history, a screen or a log), Ada's other
// browser with a state of its own (even under the name the ticket looks
// for), a ticket without a state, and Ada's browser opening Bob's own
// ticket link, which would sign her in to Bob's Jupyter (login CSRF). A
// ticket tried elsewhere is spent: its own browser cannot use it after.
func TestTicketOpensOnlyInTheBrowserThatAsked(t *testing.T) {
	f := newFixture(t, time.Hour)
	mine := f.host("adas-box", "jupyter")
	redeem := func(c *http.Client, u string) int {
		t.Helper()
		res, err := c.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	ada := f.browser(f.adaToken)

	// No cookies at all.
	u := f.ticket(t, ada, "adas-box", "jupyter")
	stranger := f.client()
	if got := redeem(stranger, u); got != http.StatusUnauthorized || signedIn(stranger, mine) {
		t.Errorf("a ticket opened without cookies: %d, signed in %v; want 401", got, signedIn(stranger, mine))
	}
	if got := redeem(ada, u); got != http.StatusUnauthorized {
		t.Errorf("the same ticket then in its own browser: %d, want 401 (spent)", got)
	}

	// Another browser, with a state of its own on the same origin.
	other := f.browser(f.adaToken)
	otherState := f.state(t, other, "adas-box", "jupyter")
	if got := redeem(other, f.ticket(t, ada, "adas-box", "jupyter")); got != http.StatusUnauthorized || signedIn(other, mine) {
		t.Errorf("a ticket opened with another browser's state: %d, want 401", got)
	}
	// ... and with that state under the name the ticket looks for.
	u = f.ticket(t, ada, "adas-box", "jupyter")
	parsed, _ := url.Parse(u)
	var tk ticket
	if err := f.g.tickets.open(parsed.Query().Get("t"), &tk); err != nil {
		t.Fatal(err)
	}
	var theirs *http.Cookie
	for _, ck := range stateCookiesOf(other, mine) {
		if ck.Name == f.g.stateName(otherState) {
			theirs = ck
		}
	}
	if theirs == nil {
		t.Fatal("the other browser holds no state")
	}
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.AddCookie(&http.Cookie{Name: f.g.stateName(tk.State), Value: theirs.Value})
	res, err := f.client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("a ticket opened with another browser's state under its name: %d, want 401", res.StatusCode)
	}

	// A ticket without a state, as the portal made them before.
	bare := f.g.tickets.seal(ticket{ID: newTicketID(), UserID: f.p.User.ID, Instance: "adas-box", App: "jupyter",
		Session: f.adaToken, Expires: f.clock.now().Add(time.Minute).Unix()})
	if got := redeem(ada, "http://"+mine+ticketPath+"?t="+bare); got != http.StatusUnauthorized {
		t.Errorf("a ticket without a state: %d, want 401", got)
	}

	// Bob's own ticket link, opened by Ada's browser, which has even begun
	// a sign-in on Bob's origin (the portal refused her there).
	bobs := f.ticket(t, f.browser(f.bobToken), "bobs-box", "jupyter")
	f.state(t, ada, "bobs-box", "jupyter")
	theirHost := f.host("bobs-box", "jupyter")
	if got := redeem(ada, bobs); got != http.StatusUnauthorized || signedIn(ada, theirHost) || f.up.hitsOf("bobs-box") != 0 {
		t.Errorf("Bob's ticket in Ada's browser: %d, signed in %v, %d upstream hits; want 401, no, none",
			got, signedIn(ada, theirHost), f.up.hitsOf("bobs-box"))
	}
	if f.up.hitsOf("adas-box") != 0 {
		t.Errorf("adas-box was reached %d times by refused tickets", f.up.hitsOf("adas-box"))
	}

	// Ada's own ticket, in her browser, opens her Jupyter.
	if got := redeem(ada, f.ticket(t, ada, "adas-box", "jupyter")); got != http.StatusOK || !signedIn(ada, mine) {
		t.Errorf("Ada's own ticket: %d, want 200", got)
	}
}

// TestOwnersClickOpensAndLeavesNoState: the owner's one click on the
// portal's link goes through the application's origin (which binds the
// sign-in to the browser), the portal and the ticket, and lands on the
// application; the state is spent with the ticket.
func TestOwnersClickOpensAndLeavesNoState(t *testing.T) {
	f := newFixture(t, time.Hour)
	var hops []string
	c := f.browser(f.adaToken)
	c.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
		hops = append(hops, req.URL.Host+req.URL.Path)
		return nil
	}
	res, err := c.Get(f.portalOpen("adas-box", "terminal", ""))
	if err != nil {
		t.Fatal(err)
	}
	if s := decodeSeen(t, res); s.Path != "/terminals/1" {
		t.Errorf("landed on %s, want the Terminal's landing page", s.Path)
	}
	mine, portal := f.host("adas-box", "terminal"), "localhost:"+f.port
	want := []string{mine + startPath, portal + "/instances/adas-box/apps/terminal/", mine + ticketPath, mine + "/terminals/1"}
	if strings.Join(hops, " ") != strings.Join(want, " ") {
		t.Errorf("redirects:\n%s\nwant\n%s", strings.Join(hops, "\n"), strings.Join(want, "\n"))
	}
	if left := stateCookiesOf(c, mine); len(left) != 0 {
		t.Errorf("state cookies left after signing in: %v", left)
	}
}

// TestSignInsBegunInSeveralTabs: page loads in several tabs of one browser
// without a sign-in (tabs restored at once) each begin one, and each lands
// where it began, in whatever order they finish. A path that looks like
// another host stays on the application's origin.
func TestSignInsBegunInSeveralTabs(t *testing.T) {
	f := newFixture(t, time.Hour)
	mine := f.host("adas-box", "jupyter")
	c := f.browser(f.adaToken)
	begin := func(path string) string {
		req, _ := http.NewRequest(http.MethodGet, "http://"+mine+path, nil)
		req.Header.Set("Sec-Fetch-Mode", "navigate")
		stop := *c
		stop.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		res, err := stop.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("page load of %s without a sign-in: %d", path, res.StatusCode)
		}
		return res.Header.Get("Location")
	}
	paths := []string{"/tree", "/notebooks/a.ipynb?kernel=1", "//evil.example/x"}
	var portal []string
	for _, p := range paths {
		portal = append(portal, begin(p))
	}
	for i := len(paths) - 1; i >= 0; i-- {
		res, err := c.Get(portal[i])
		if err != nil {
			t.Fatal(err)
		}
		if res.Request.URL.Host != mine || res.Request.URL.RequestURI() != paths[i] {
			t.Errorf("tab of %s landed on %s", paths[i], res.Request.URL)
		}
		if s := decodeSeen(t, res); s.Instance != "adas-box" || s.Path != strings.SplitN(paths[i], "?", 2)[0] {
			t.Errorf("tab of %s reached %s%s", paths[i], s.Instance, s.Path)
		}
	}
	if left := stateCookiesOf(c, mine); len(left) != 0 {
		t.Errorf("state cookies left: %v", left)
	}
	// Past maxStates sign-ins under way, the next start clears them.
	for range maxStates {
		f.state(t, c, "adas-box", "jupyter")
	}
	f.state(t, c, "adas-box", "jupyter")
	if n := len(stateCookiesOf(c, mine)); n != 1 {
		t.Errorf("%d state cookies after %d starts, want 1", n, maxStates+1)
	}
}

// TestStateExpires: a state older than stateLifetime signs nobody in,
// though the ticket made for it is fresh.
func TestStateExpires(t *testing.T) {
	f := newFixture(t, time.Hour)
	c := f.browser(f.adaToken)
	state := f.state(t, c, "adas-box", "jupyter")
	f.clock.advance(stateLifetime + time.Second)
	res, err := c.Get(f.portalOpen("adas-box", "jupyter", state))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized || res.Request.URL.Path != ticketPath {
		t.Errorf("a ticket for an expired state: %d at %s, want 401 at the ticket", res.StatusCode, res.Request.URL.Path)
	}
}

// TestPortalRefusesAStateItCannotHaveMade: the portal issues tickets only
// for a state's digest, nothing else a URL may carry.
func TestPortalRefusesAStateItCannotHaveMade(t *testing.T) {
	f := newFixture(t, time.Hour)
	ctx := instancehub.NewContextWithUser(context.Background(), f.p.User)
	for _, bad := range []string{"x", strings.Repeat("A", 42), strings.Repeat("*", 43), stateDigest("a") + "A"} {
		if _, err := f.g.OpenURL(ctx, f.adaToken, "adas-box", "jupyter", bad); instancehub.ErrorCode(err) != instancehub.EINVALID {
			t.Errorf("state %q: %v, want EINVALID", bad, err)
		}
	}
	u, err := f.g.OpenURL(ctx, f.adaToken, "adas-box", "jupyter", "")
	if err != nil || u != "http://"+f.host("adas-box", "jupyter")+startPath {
		t.Errorf("without a state: %q, %v; want the origin's start", u, err)
	}
}

// TestStateCookieOverTLS: over TLS the state cookie is __Host- and Secure,
// as the gateway's own; it is always host-only, HttpOnly, Lax and short.
func TestStateCookieOverTLS(t *testing.T) {
	f := newFixture(t, time.Hour)
	g, err := New(Config{Domain: "apps.example.com", Scheme: "https", Key: []byte(strings.Repeat("k", 32)),
		Service: f.p.Service, Upstreams: f.up, PortalOpen: func(name, slug, state string) string {
			return "https://portal.example.com/instances/" + name + "/apps/" + slug + "/?state=" + state
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	rec := httptest.NewRecorder()
	g.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "https://adas-box--jupyter.apps.example.com"+startPath, nil))
	cookies := rec.Result().Cookies()
	if len(cookies) != 1 {
		t.Fatalf("cookies = %v", cookies)
	}
	c := cookies[0]
	if !strings.HasPrefix(c.Name, "__Host-"+stateBase) || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode ||
		c.Path != "/" || c.Domain != "" || c.MaxAge != int(stateLifetime/time.Second) {
		t.Errorf("state cookie = %+v", c)
	}
	loc, _ := url.Parse(rec.Header().Get("Location"))
	if rec.Code != http.StatusSeeOther || loc.Host != "portal.example.com" || c.Name != g.stateName(loc.Query().Get("state")) {
		t.Errorf("start: %d to %q", rec.Code, loc)
	}
}
