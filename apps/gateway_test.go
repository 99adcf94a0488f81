package apps

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/instancehub/instancehub"
)

func TestOwnerOpensApplicationOnItsOrigin(t *testing.T) {
	f := newFixture(t, time.Hour)
	c, res := f.open(t, f.adaToken, "adas-box", "jupyter")
	if got := res.Request.URL.Host; got != f.host("adas-box", "jupyter") {
		t.Errorf("landed on %s, want the application's own origin", got)
	}
	s := decodeSeen(t, res)
	if s.Instance != "adas-box" || s.Path != "/" {
		t.Errorf("reached %s%s, want adas-box/", s.Instance, s.Path)
	}
	if got := s.Header.Get("Authorization"); got != "token secret-adas-box" {
		t.Errorf("Authorization upstream = %q, want the instance's token", got)
	}
	// The cookie is host-only: the portal and every other origin never see it.
	u, _ := url.Parse("http://" + f.host("adas-box", "jupyter"))
	cookies := c.Jar.Cookies(u)
	if len(cookies) != 1 || cookies[0].Name != cookieBase {
		t.Fatalf("cookies = %v, want the gateway's", cookies)
	}
	for _, other := range []string{"http://" + f.host("bobs-box", "jupyter"), "http://" + f.host("adas-box", "rstudio"), "http://localhost:" + f.port} {
		o, _ := url.Parse(other)
		for _, ck := range c.Jar.Cookies(o) {
			if ck.Name != "instancehub_session" || o.Host != "localhost:"+f.port {
				t.Errorf("%s gets cookie %v", other, ck)
			}
		}
	}
}

func TestNothingOfThePortalReachesUpstream(t *testing.T) {
	f := newFixture(t, time.Hour)
	c, res := f.open(t, f.adaToken, "adas-box", "jupyter")
	res.Body.Close()
	req, _ := http.NewRequest(http.MethodGet, "http://"+f.host("adas-box", "jupyter")+"/api/contents", nil)
	req.Header.Set("Authorization", "Bearer the-clients-own")
	req.Header.Set("X-Forwarded-For", "6.6.6.6")
	req.Header.Set("X-Forwarded-Host", "evil.example")
	req.Header.Set("X-Forwarded-Proto", "https")
	req.Header.Set("X-Forwarded-Server", "evil")
	req.Header.Set("X-Real-IP", "6.6.6.6")
	req.Header.Set("Forwarded", "for=6.6.6.6")
	req.Header.Set("X-CSRF-Token", "portal-csrf")
	req.AddCookie(&http.Cookie{Name: "instancehub_session", Value: "portal-session"})
	req.AddCookie(&http.Cookie{Name: "__Host-instancehub_session", Value: "portal-session"})
	req.AddCookie(&http.Cookie{Name: "_xsrf", Value: "jupyters-own"})
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	h := decodeSeen(t, res).Header
	if got := h.Get("Authorization"); got != "token secret-adas-box" {
		t.Errorf("Authorization = %q", got)
	}
	for _, k := range []string{"X-Forwarded-For", "X-Forwarded-Server", "X-Real-Ip", "Forwarded", "X-Csrf-Token"} {
		if v := h.Values(k); len(v) != 0 {
			t.Errorf("%s reached upstream: %q", k, v)
		}
	}
	if got := h.Get("X-Forwarded-Host"); got != f.host("adas-box", "jupyter") {
		t.Errorf("X-Forwarded-Host = %q, want the application's host", got)
	}
	if got := h.Get("X-Forwarded-Proto"); got != "http" {
		t.Errorf("X-Forwarded-Proto = %q", got)
	}
	cookie := strings.Join(h.Values("Cookie"), "; ")
	if cookie != "_xsrf=jupyters-own" {
		t.Errorf("Cookie upstream = %q, want only the application's own", cookie)
	}
}

// TestUpstreamsCORSAnswersAreDropped: Jupyter names the origin it was sent,
// which the gateway sets to the upstream's own address, in
// Access-Control-Allow-Origin; none of its Access-Control-* answers
// reaches the browser, and no answer names the upstream's address.
func TestUpstreamsCORSAnswersAreDropped(t *testing.T) {
	f := newFixture(t, time.Hour)
	c, res := f.open(t, f.adaToken, "adas-box", "jupyter")
	res.Body.Close()
	mine := f.host("adas-box", "jupyter")
	upstream := strings.TrimPrefix(f.up.servers["adas-box"].URL, "http://")
	for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodOptions} {
		req, _ := http.NewRequest(method, "http://"+mine+"/api/contents", nil)
		req.Header.Set("Origin", "http://"+mine)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		req.Header.Set("Access-Control-Request-Method", "PUT")
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode >= 400 {
			t.Fatalf("%s: %d", method, res.StatusCode)
		}
		for k, v := range res.Header {
			if strings.HasPrefix(strings.ToLower(k), "access-control-") {
				t.Errorf("%s: %s: %q reached the browser", method, k, v)
			}
			if strings.Contains(strings.Join(v, " "), upstream) {
				t.Errorf("%s: %s names the upstream: %q", method, k, v)
			}
		}
	}
}

func TestUpstreamCannotSetTheGatewaysCookie(t *testing.T) {
	f := newFixture(t, time.Hour)
	c, res := f.open(t, f.adaToken, "adas-box", "jupyter")
	res.Body.Close()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := c.Get("http://" + f.host("adas-box", "jupyter") + "/cookies")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	var names []string
	for _, ck := range res.Cookies() {
		names = append(names, ck.Name)
	}
	if strings.Join(names, ",") != "_xsrf" {
		t.Errorf("Set-Cookie passed: %v, want only _xsrf", names)
	}
	if loc := res.Header.Get("Location"); loc != "http://"+f.host("adas-box", "jupyter")+"/tree" {
		t.Errorf("Location = %q, want it on the application's origin", loc)
	}
}

func TestWorkspaceOwnerIsRefusedAtTheSameAddress(t *testing.T) {
	f := newFixture(t, time.Hour)
	bobCtx := instancehub.NewContextWithUser(context.Background(), f.bob)
	for _, state := range []string{"", stateDigest("any")} {
		if _, err := f.g.OpenURL(bobCtx, f.bobToken, "adas-box", "jupyter", state); instancehub.ErrorCode(err) != instancehub.EFORBIDDEN {
			t.Fatalf("Bob opens Ada's Jupyter from the portal (state %q): %v, want forbidden", state, err)
		}
	}
	// Bob's browser, sent to the portal by Ada's address, is refused there.
	c := f.browser(f.bobToken)
	res, err := c.Get(f.portalOpen("adas-box", "jupyter", ""))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("Bob follows the link to Ada's Jupyter: %d, want 403", res.StatusCode)
	}
	// A ticket made for Bob's browser at Ada's address, as if the portal
	// had not checked: the application's origin asks the service itself.
	forged := f.g.tickets.seal(ticket{ID: newTicketID(), UserID: f.bob.ID, Instance: "adas-box", App: "jupyter",
		Session: f.bobToken, State: f.state(t, c, "adas-box", "jupyter"), Expires: time.Now().Add(time.Minute).Unix()})
	res, err = c.Get("http://" + f.host("adas-box", "jupyter") + ticketPath + "?t=" + forged)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("Bob's ticket at Ada's Jupyter: %d, want 403", res.StatusCode)
	}
	// Bob's own sign-in, on his instance, sent to Ada's address.
	bc, res := f.open(t, f.bobToken, "bobs-box", "jupyter")
	res.Body.Close()
	u, _ := url.Parse("http://" + f.host("bobs-box", "jupyter"))
	req, _ := http.NewRequest(http.MethodGet, "http://"+f.host("adas-box", "jupyter")+"/", nil)
	req.AddCookie(bc.Jar.Cookies(u)[0])
	res, err = f.client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized || f.up.hitsOf("adas-box") != 0 {
		t.Errorf("Bob's cookie at Ada's Jupyter: %d, %d upstream hits; want 401 and none", res.StatusCode, f.up.hitsOf("adas-box"))
	}
	// And Bob's WebSocket upgrade at Ada's address.
	_, res, err = f.dialWS(context.Background(), bc, f.host("adas-box", "jupyter"), "http://"+f.host("adas-box", "jupyter"))
	if err == nil || res == nil || res.StatusCode != http.StatusUnauthorized {
		t.Errorf("Bob's upgrade at Ada's Jupyter: %v, want 401", err)
	}
}

func TestTickets(t *testing.T) {
	f := newFixture(t, time.Hour)
	ctx := instancehub.NewContextWithUser(context.Background(), f.p.User)
	browser := f.browser(f.adaToken)
	issue := func() string { return f.ticket(t, browser, "adas-box", "jupyter") }
	get := func(u string) int {
		res, err := browser.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	u := issue()
	if got := get(u); got != http.StatusOK {
		t.Fatalf("first use: %d", got)
	}
	if got := get(u); got != http.StatusUnauthorized {
		t.Errorf("replayed: %d, want 401", got)
	}
	u = issue()
	f.clock.advance(TicketLifetime + time.Second)
	if got := get(u); got != http.StatusUnauthorized {
		t.Errorf("expired: %d, want 401", got)
	}
	f.clock.advance(-TicketLifetime - time.Second)
	u = issue()
	tk := strings.SplitN(u, "t=", 2)[1]
	forged := tk[:len(tk)-2] + map[bool]string{true: "AA", false: "BB"}[!strings.HasSuffix(tk, "AA")]
	if got := get(strings.Replace(u, tk, forged, 1)); got != http.StatusUnauthorized {
		t.Errorf("forged: %d, want 401", got)
	}
	for _, other := range []string{f.host("adas-box", "rstudio"), f.host("bobs-box", "jupyter")} {
		swapped := strings.Replace(issue(), f.host("adas-box", "jupyter"), other, 1)
		if got := get(swapped); got != http.StatusForbidden {
			t.Errorf("swapped to %s: %d, want 403", other, got)
		}
	}
	u = issue()
	if err := f.p.Service.SignOut(ctx, f.adaToken); err != nil {
		t.Fatal(err)
	}
	if got := get(u); got != http.StatusUnauthorized {
		t.Errorf("after sign-out: %d, want 401", got)
	}
}

func TestSignOutEndsTheApplicationsSignIn(t *testing.T) {
	f := newFixture(t, time.Hour)
	c, res := f.open(t, f.adaToken, "adas-box", "jupyter")
	res.Body.Close()
	if err := f.p.Service.SignOut(f.p.Ctx, f.adaToken); err != nil {
		t.Fatal(err)
	}
	res, err := c.Get("http://" + f.host("adas-box", "jupyter") + "/tree")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("after sign-out: %d, want 401", res.StatusCode)
	}
}

func TestHostsAndPathTricks(t *testing.T) {
	f := newFixture(t, time.Hour)
	c, res := f.open(t, f.adaToken, "adas-box", "jupyter")
	res.Body.Close()
	mine := f.host("adas-box", "jupyter")
	tests := []struct {
		host, path string
		want       int
	}{
		{mine, "/a/../b", http.StatusBadRequest},
		{mine, "/a/%2e%2e/b", http.StatusBadRequest},
		{mine, "/%2E%2E/bobs-box--jupyter.apps.localhost/", http.StatusBadRequest},
		{mine, "/api/contents/a%2Fb", http.StatusBadRequest},
		{mine, "/api/contents/a%5cb", http.StatusBadRequest},
		{mine, "/./tree", http.StatusBadRequest},
		{"adas-box--jupyter.apps.localhost.evil.example:" + f.port, "/", http.StatusTeapot}, // the portal's, not an application
		{"adas-box--jupyter.apps.localhostx:" + f.port, "/", http.StatusTeapot},
		{"x.adas-box--jupyter.apps.localhost:" + f.port, "/", http.StatusNotFound},
		{"adas-box--emacs.apps.localhost:" + f.port, "/", http.StatusNotFound},
		{"adas-box-jupyter.apps.localhost:" + f.port, "/", http.StatusNotFound},
		{"adas-box--jupyter.apps.localhost:80x", "/", http.StatusNotFound},
		{"9bad--jupyter.apps.localhost:" + f.port, "/", http.StatusNotFound},
		{"apps.localhost:" + f.port, "/", http.StatusNotFound},
		// A trailing dot names the same machine, not the same origin: the
		// gateway refuses it, and the portal never answers there.
		{"adas-box--jupyter.apps.localhost.:" + f.port, "/", http.StatusNotFound},
		{"adas-box--jupyter.apps.localhost..:" + f.port, "/", http.StatusNotFound},
		{"adas-box--jupyter.apps.localhost.", "/", http.StatusNotFound},
		{"apps.localhost.:" + f.port, "/", http.StatusNotFound},
		// Another instance's address with Ada's cookie: it is not sent
		// there by a browser, and is refused when it is.
		{"bobs-box--jupyter.apps.localhost:" + f.port, "/", http.StatusUnauthorized},
	}
	u, _ := url.Parse("http://" + mine)
	cookie := c.Jar.Cookies(u)[0]
	for _, tt := range tests {
		req, _ := http.NewRequest(http.MethodGet, "http://"+mine+tt.path, nil)
		req.Host = tt.host
		req.AddCookie(cookie)
		res, err := f.client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != tt.want {
			t.Errorf("%s %s: %d, want %d", tt.host, tt.path, res.StatusCode, tt.want)
		}
	}
	if n := f.up.hitsOf("bobs-box"); n != 0 {
		t.Errorf("bobs-box was reached %d times", n)
	}
	before := f.up.hitsOf("adas-box")
	// Another instance's name in the path, and upper case in the host,
	// reach Ada's own upstream.
	req, _ := http.NewRequest(http.MethodGet, "http://"+strings.ToUpper(mine)+"/bobs-box--jupyter.apps.localhost/", nil)
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if s := decodeSeen(t, res); s.Instance != "adas-box" {
		t.Errorf("reached %s", s.Instance)
	}
	if f.up.hitsOf("adas-box") != before+1 {
		t.Errorf("adas-box hits %d, want %d", f.up.hitsOf("adas-box"), before+1)
	}
}

func TestCrossOriginWritesAndSocketsAreRefused(t *testing.T) {
	f := newFixture(t, time.Hour)
	c, res := f.open(t, f.adaToken, "adas-box", "jupyter")
	res.Body.Close()
	mine := f.host("adas-box", "jupyter")
	post := func(set func(http.Header)) int {
		req, _ := http.NewRequest(http.MethodPost, "http://"+mine+"/api/kernels", strings.NewReader("{}"))
		set(req.Header)
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if got := post(func(h http.Header) { h.Set("Sec-Fetch-Site", "same-site") }); got != http.StatusForbidden {
		t.Errorf("POST from a sibling origin: %d, want 403", got)
	}
	if got := post(func(h http.Header) { h.Set("Origin", "http://"+f.host("bobs-box", "jupyter")) }); got != http.StatusForbidden {
		t.Errorf("POST with another instance's Origin: %d, want 403", got)
	}
	if got := post(func(h http.Header) { h.Set("Sec-Fetch-Site", "same-origin"); h.Set("Origin", "http://"+mine) }); got != http.StatusOK {
		t.Errorf("POST from the application's own page: %d, want 200", got)
	}
	for _, origin := range []string{"", "http://" + f.host("bobs-box", "jupyter"), "http://localhost:" + f.port, "https://" + mine} {
		_, res, err := f.dialWS(context.Background(), c, mine, origin)
		if err == nil || res == nil || res.StatusCode != http.StatusForbidden {
			t.Errorf("upgrade with Origin %q: %v, want 403", origin, err)
		}
	}
}

func TestWebSocketFramesBothWays(t *testing.T) {
	f := newFixture(t, time.Hour)
	c, res := f.open(t, f.adaToken, "adas-box", "jupyter")
	res.Body.Close()
	drain(f.activity)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	mine := f.host("adas-box", "jupyter")
	ws, _, err := f.dialWS(ctx, c, mine, "http://"+mine)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	ws.SetReadLimit(-1)
	big := strings.Repeat("x", 200_000) // longer than a 64-bit length frame header needs
	for _, msg := range []string{"print(6*7)", big, ""} {
		if err := ws.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		_, got, err := ws.Read(ctx)
		if err != nil || string(got) != msg {
			t.Fatalf("echo of %d bytes: %d bytes, %v", len(msg), len(got), err)
		}
	}
	// Each message sent counts as activity (the hook is not throttled here).
	if n := drain(f.activity); n < 3 {
		t.Errorf("activity reported %d times for 3 messages", n)
	}
}

func drain(ch chan string) int {
	n := 0
	for {
		select {
		case <-ch:
			n++
		case <-time.After(50 * time.Millisecond):
			return n
		}
	}
}

// waitClosed waits for the server to end an open WebSocket.
func waitClosed(t *testing.T, ws *websocket.Conn, within time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	start := time.Now()
	if _, _, err := ws.Read(ctx); err == nil || ctx.Err() != nil {
		t.Fatalf("the WebSocket is still open after %v (%v)", time.Since(start), err)
	}
}

func TestStopClosesOpenWebSockets(t *testing.T) {
	f := newFixture(t, time.Hour) // only Revoke rechecks here
	c, res := f.open(t, f.adaToken, "adas-box", "jupyter")
	res.Body.Close()
	mine := f.host("adas-box", "jupyter")
	ws, _, err := f.dialWS(context.Background(), c, mine, "http://"+mine)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	if _, err := f.p.Service.Act(f.p.Ctx, "adas-box", instancehub.OpStop); err != nil {
		t.Fatal(err)
	}
	f.g.Revoke("adas-box")
	waitClosed(t, ws, 3*time.Second)
	_, res, err = f.dialWS(context.Background(), c, mine, "http://"+mine)
	if err == nil || res.StatusCode != http.StatusConflict {
		t.Errorf("upgrade after Stop: %v, want 409", err)
	}
}

func TestRecheckClosesWebSocketsOfAnEndedSession(t *testing.T) {
	f := newFixture(t, 100*time.Millisecond)
	c, res := f.open(t, f.adaToken, "adas-box", "jupyter")
	res.Body.Close()
	mine := f.host("adas-box", "jupyter")
	ws, _, err := f.dialWS(context.Background(), c, mine, "http://"+mine)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	// Still open across rechecks while allowed.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	time.Sleep(300 * time.Millisecond)
	if err := ws.Write(ctx, websocket.MessageText, []byte("still here")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ws.Read(ctx); err != nil {
		t.Fatalf("closed while allowed: %v", err)
	}
	if err := f.p.Service.SignOut(f.p.Ctx, f.adaToken); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, ws, 3*time.Second)
}

func TestPageLoadWithoutSignInGoesToThePortal(t *testing.T) {
	f := newFixture(t, time.Hour)
	c := f.client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	req, _ := http.NewRequest(http.MethodGet, "http://"+f.host("adas-box", "jupyter")+"/tree", nil)
	req.Header.Set("Sec-Fetch-Mode", "navigate")
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	loc, _ := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != http.StatusSeeOther || loc == nil || loc.Host != "localhost:"+f.port ||
		loc.Path != "/instances/adas-box/apps/jupyter/" || !validDigest(loc.Query().Get("state")) {
		t.Errorf("page load without sign-in: %d to %q, want the portal's open address with a state", res.StatusCode, loc)
	}
	// The page's own requests are refused, not redirected.
	res, err = c.Get("http://" + f.host("adas-box", "jupyter") + "/api/kernels")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("API request without sign-in: %d, want 401", res.StatusCode)
	}
}
