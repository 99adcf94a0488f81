package web_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/internal/testportal"
	"github.com/instancehub/instancehub/static"
	"github.com/instancehub/instancehub/web"
	"github.com/oauth2-proxy/mockoidc"
)

// TestRequestBodiesAreBounded: a stranger's huge form is refused before it
// is read, and leaves nothing in the audit log.
func TestRequestBodiesAreBounded(t *testing.T) {
	s := newSite(t, 0)
	huge := strings.Repeat("a", 1<<20) + "@example.com"
	r := s.post(t, "/login", url.Values{"email": {huge}, "password": {"x"}})
	wantStatus(t, r, http.StatusRequestEntityTooLarge)
	// Without a length in advance (chunked), the limit holds as the body streams.
	req, _ := http.NewRequest(http.MethodPost, s.server.URL+"/login", io.MultiReader(strings.NewReader("email="), strings.NewReader(huge)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.ContentLength = -1
	wantStatus(t, s.do(t, s.client, req), http.StatusRequestEntityTooLarge)
	log, err := s.Service.AuditEvents(s.Ctx, instancehub.AuditFilter{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range log.Events {
		if len(e.Target) > 1000 {
			t.Errorf("a refused body reached the audit log: %d bytes in %s", len(e.Target), e.Action)
		}
	}
	// Signed in, a form within the limit still works.
	s.signIn(t, "ada@example.com")
	wantStatus(t, s.post(t, "/instances/refresh", nil), http.StatusSeeOther)
}

// TestHEAD: every GET route answers HEAD as GET, without a body.
func TestHEAD(t *testing.T) {
	s := newSite(t, 0)
	for _, path := range []string{"/healthz", "/static/css/app.css", "/login"} {
		req, _ := http.NewRequest(http.MethodHead, s.server.URL+path, nil)
		r := s.do(t, s.client, req)
		if r.StatusCode != http.StatusOK || r.body != "" {
			t.Errorf("HEAD %s: %d with %d bytes, want 200 and no body", path, r.StatusCode, len(r.body))
		}
	}
}

// TestNoStore: signed-in pages and exports are never cached; versioned
// static files are cached for good.
func TestNoStore(t *testing.T) {
	s := newSite(t, 0)
	s.signIn(t, "ada@example.com")
	for _, path := range []string{"/instances", "/audit", "/audit/export.csv", "/access"} {
		if cc := s.get(t, path).Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("%s: Cache-Control %q, want no-store", path, cc)
		}
	}
	if cc := s.get(t, "/static/css/app.css?v=1").Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
		t.Errorf("static: Cache-Control %q", cc)
	}
}

// TestCookiesOverTLS: over TLS every cookie is __Host-, Secure and for path
// /, so a sibling site cannot set one; an unprefixed cookie it tossed in is
// ignored, and HSTS is sent.
func TestCookiesOverTLS(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	server := httptest.NewTLSServer(web.New(web.Config{Static: static.FS, Logger: log, LocalAccounts: true}, p.Service).Handler())
	t.Cleanup(server.Close)
	client := server.Client()
	client.Jar, _ = cookiejar.New(nil)
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	s := &site{Portal: p, server: server, client: client}

	form := url.Values{"email": {"ada@example.com"}, "password": {testportal.Password}}
	resp, err := client.PostForm(server.URL+"/login", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "__Host-instancehub_session" {
			session = c
		}
	}
	if session == nil || !session.Secure || session.Path != "/" || !session.HttpOnly {
		t.Fatalf("session cookie over TLS = %+v (all: %v)", session, resp.Cookies())
	}
	if hsts := resp.Header.Get("Strict-Transport-Security"); !strings.HasPrefix(hsts, "max-age=") {
		t.Errorf("HSTS = %q", hsts)
	}
	// A token computed from an unprefixed, tossed session cookie opens nothing.
	visitor := server.Client()
	visitor.Jar, _ = cookiejar.New(nil)
	visitor.CheckRedirect = client.CheckRedirect
	u, _ := url.Parse(server.URL)
	visitor.Jar.SetCookies(u, []*http.Cookie{{Name: "instancehub_session", Value: session.Value, Path: "/"}})
	r := s.do(t, visitor, mustRequest(t, http.MethodGet, server.URL+"/instances"))
	if r.StatusCode != http.StatusSeeOther {
		t.Errorf("an unprefixed session cookie was taken over TLS: %d", r.StatusCode)
	}
}

func mustRequest(t *testing.T, method, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// TestSingleSignOnCookieIsSealed: the cookie of a sign-in under way holds
// the PKCE verifier, so the browser must not be able to read it.
func TestSingleSignOnCookieIsSealed(t *testing.T) {
	s := newSSOSite(t)
	start := s.follow(t, s.server.URL+"/auth/oidc/login")
	var value string
	for _, c := range start.Cookies() {
		if c.Name == "instancehub_oidc" {
			value = c.Value
		}
	}
	if value == "" {
		t.Fatalf("no sign-in cookie: %v", start.Cookies())
	}
	loc, _ := url.Parse(start.Header.Get("Location"))
	state := loc.Query().Get("state")
	for _, part := range strings.Split(value, ".") {
		raw, _ := base64.RawURLEncoding.DecodeString(part)
		if bytes.Contains(raw, []byte(state)) || bytes.Contains(raw, []byte(`"v"`)) {
			t.Fatalf("the sign-in cookie can be read: %q", raw)
		}
	}
	// The sign-in still completes with it.
	s.issuer.QueueUser(&mockoidc.MockUser{Subject: "grace-1", Email: "grace@example.com", EmailVerified: true})
	back := s.toProvider(t)
	if done := s.follow(t, back.String()); done.StatusCode != http.StatusSeeOther || done.Header.Get("Location") != "/instances/new" {
		t.Fatalf("callback: %d to %q", done.StatusCode, done.Header.Get("Location"))
	}
}

// TestNamesCannotReorderText: bidirectional controls in a name someone
// chose are dropped on display.
func TestNamesCannotReorderText(t *testing.T) {
	s := newSite(t, 0)
	s.EnsureUser(t, "eve@example.com", "Eve \u202Enimda\u202C", instancehub.RoleReader)
	s.signIn(t, "ada@example.com")
	r := s.get(t, "/access")
	wantStatus(t, r, http.StatusOK)
	if strings.ContainsRune(r.body, '\u202E') || !strings.Contains(r.body, "Eve nimda") {
		t.Errorf("the access page shows a bidirectional override")
	}
}

// TestClientGoneIsNotAnError: a request whose browser went away is logged
// at debug level, not as an error.
func TestClientGoneIsNotAnError(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0)
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	handler := web.New(web.Config{Static: static.FS, Logger: log, LocalAccounts: true}, p.Service).Handler()
	s := &site{Portal: p, server: httptest.NewServer(handler), client: newClient()}
	t.Cleanup(s.server.Close)
	signIn(t, s, "ada@example.com")
	u, _ := url.Parse(s.server.URL)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/instances", nil)
	for _, c := range s.client.Jar.Cookies(u) {
		req.AddCookie(c)
	}
	handler.ServeHTTP(httptest.NewRecorder(), req)
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("a cancelled request was logged as an error:\n%s", logs.String())
	}
}

// TestReadiness: /readyz answers ready with the schema version while the
// database answers at the version this build expects, and 503 with the
// reason once it does not (here: closed).
func TestReadiness(t *testing.T) {
	s := newSite(t, 0)
	r := s.get(t, "/readyz")
	wantStatus(t, r, http.StatusOK)
	if !strings.Contains(r.body, `"status":"ready"`) || !strings.Contains(r.body, `"schema":`) {
		t.Errorf("ready: %s", r.body)
	}
	if err := s.DB.Close(); err != nil {
		t.Fatal(err)
	}
	r = s.get(t, "/readyz")
	wantStatus(t, r, http.StatusServiceUnavailable)
	if !strings.Contains(r.body, "does not answer") {
		t.Errorf("not ready: %s", r.body)
	}
	wantStatus(t, s.get(t, "/healthz"), http.StatusOK)
}
