package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/internal/testportal"
)

func TestHealthNeedsNoSignIn(t *testing.T) {
	s := newSite(t, 0)
	r := s.get(t, "/healthz")
	wantStatus(t, r, http.StatusOK)
	if !strings.Contains(r.body, `"ok"`) {
		t.Errorf("body = %q", r.body)
	}
}

func TestPagesNeedSignIn(t *testing.T) {
	s := newSite(t, 0)
	r := s.get(t, "/instances?mine=1")
	wantStatus(t, r, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); loc != "/login?next=%2Finstances%3Fmine%3D1" {
		t.Errorf("Location = %q", loc)
	}
	r = s.get(t, "/instances/anything/row", "HX-Request", "true")
	wantStatus(t, r, http.StatusUnauthorized)
	if r.Header.Get("HX-Redirect") != "/login" {
		t.Errorf("HX-Redirect = %q", r.Header.Get("HX-Redirect"))
	}
	r = s.post(t, "/instances/anything/start", nil)
	wantStatus(t, r, http.StatusSeeOther)
}

func TestSignInAndOut(t *testing.T) {
	s := newSite(t, 0)
	r := s.post(t, "/login", url.Values{"email": {"ada@example.com"}, "password": {"wrong password!"}})
	wantStatus(t, r, http.StatusUnauthorized)
	if msg := text(r.doc.Find(`[data-testid="login-error"]`)); msg != "The email or password is not correct, or the account is disabled." {
		t.Errorf("error = %q", msg)
	}
	if v, _ := r.doc.Find("#email").Attr("value"); v != "ada@example.com" {
		t.Errorf("email kept = %q", v)
	}
	r = s.post(t, "/login", url.Values{"email": {"nobody@example.com"}, "password": {"wrong password!"}})
	if msg := text(r.doc.Find(`[data-testid="login-error"]`)); msg != "The email or password is not correct, or the account is disabled." {
		t.Errorf("unknown email: error = %q, want the same message", msg)
	}

	r = s.post(t, "/login", url.Values{"email": {"ADA@example.com"}, "password": {testportal.Password}, "next": {"/instances/new"}})
	wantStatus(t, r, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); loc != "/instances/new" {
		t.Errorf("after sign-in to %q, want /instances/new", loc)
	}
	var session *http.Cookie
	for _, c := range r.Cookies() {
		if c.Name == "instancehub_session" {
			session = c
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || len(session.Value) < 40 {
		t.Fatalf("session cookie = %+v, want HttpOnly, SameSite=Lax, a long token", session)
	}
	page := s.get(t, "/instances")
	wantStatus(t, page, http.StatusOK)
	if name := text(page.doc.Find(".user-name")); name != "Ada Lovelace" {
		t.Errorf("top bar user = %q", name)
	}

	// Signing in again rotates the session: the old token stops working.
	again := s.post(t, "/login", url.Values{"email": {"ada@example.com"}, "password": {testportal.Password}})
	wantStatus(t, again, http.StatusSeeOther)
	old := newClient()
	u, _ := url.Parse(s.server.URL)
	old.Jar.SetCookies(u, []*http.Cookie{{Name: "instancehub_session", Value: session.Value}})
	req, _ := http.NewRequest(http.MethodGet, s.server.URL+"/instances", nil)
	if r := s.do(t, old, req); r.StatusCode != http.StatusSeeOther {
		t.Errorf("old session after a new sign-in: status %d, want a redirect to sign in", r.StatusCode)
	}

	wantStatus(t, s.post(t, "/logout", nil), http.StatusSeeOther)
	wantStatus(t, s.get(t, "/instances"), http.StatusSeeOther)
}

func TestOpenRedirectRefused(t *testing.T) {
	s := newSite(t, 0)
	for _, next := range []string{"https://evil.example/", "//evil.example/", "/\\evil.example", "/\t/evil.example/y", "/\n/evil.example", " //evil.example", "javascript:alert(1)", "/" + strings.Repeat("a", 600)} {
		r := s.post(t, "/login", url.Values{"email": {"ada@example.com"}, "password": {testportal.Password}, "next": {next}})
		if loc := r.Header.Get("Location"); loc != "/" {
			t.Errorf("next=%q: Location %q, want / (home)", next, loc)
		}
	}
}

func TestSecurityHeaders(t *testing.T) {
	s := newSite(t, 0)
	r := s.get(t, "/login")
	csp := r.Header.Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "default-src 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe") {
		t.Errorf("CSP allows something unsafe: %q", csp)
	}
	if r.Header.Get("X-Content-Type-Options") != "nosniff" || r.Header.Get("Referrer-Policy") != "same-origin" {
		t.Errorf("headers = %v", r.Header)
	}
	if n := r.doc.Find("script:not([src])").Length(); n != 0 {
		t.Errorf("%d inline scripts", n)
	}
	if n := r.doc.Find("[style]").Length(); n != 0 {
		t.Errorf("%d inline styles", n)
	}
}

// TestCSRF: a change must come from the portal's own origin and carry the
// token of its own session, in the body or a header.
func TestCSRF(t *testing.T) {
	s := newSite(t, 0)
	s.signIn(t, "ada@example.com")
	s.Seed(t, "csrf", 1, s.User)
	s.EnsureUser(t, "grace@example.com", "Grace Hopper", instancehub.RoleReader)
	mallory := newClient()
	signIn(t, &site{Portal: s.Portal, server: s.server, client: mallory}, "grace@example.com")
	other := s.csrfToken(t, mallory)
	own := s.csrfToken(t, s.client)
	tests := []struct {
		desc    string
		form    url.Values
		query   string
		headers []string
		status  int
	}{
		{"no token", url.Values{}, "", nil, http.StatusForbidden},
		{"wrong token", url.Values{"_csrf": {"forged"}}, "", nil, http.StatusForbidden},
		{"another session's token", url.Values{"_csrf": {other}}, "", nil, http.StatusForbidden},
		{"token in the address only", url.Values{}, "?_csrf=" + own, nil, http.StatusForbidden},
		{"right token", url.Values{"_csrf": {own}}, "", nil, http.StatusSeeOther},
		{"right token in the header", url.Values{}, "", []string{"X-CSRF-Token", own}, http.StatusSeeOther},
		{"same-origin browser with the token", url.Values{"_csrf": {own}}, "", []string{"Sec-Fetch-Site", "same-origin"}, http.StatusSeeOther},
		{"same-origin browser without the token", url.Values{}, "", []string{"Sec-Fetch-Site", "same-origin"}, http.StatusForbidden},
		{"cross-site browser, even with the token", url.Values{"_csrf": {own}}, "", []string{"Sec-Fetch-Site", "cross-site"}, http.StatusForbidden},
		// A sibling subdomain (or an application's origin) is same-site.
		{"same-site browser, even with the token", url.Values{"_csrf": {own}}, "", []string{"Sec-Fetch-Site", "same-site"}, http.StatusForbidden},
		{"another origin, by Origin alone", url.Values{"_csrf": {own}}, "", []string{"Origin", "http://evil.example.test"}, http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, s.server.URL+"/instances/refresh"+tt.query, strings.NewReader(tt.form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for i := 0; i+1 < len(tt.headers); i += 2 {
				req.Header.Set(tt.headers[i], tt.headers[i+1])
			}
			wantStatus(t, s.do(t, s.client, req), tt.status)
		})
	}
	// Every refusal is in the audit log, the browser's cross-site one included.
	log, err := s.Service.AuditEvents(s.Ctx, instancehub.AuditFilter{Action: "request.csrf"}, 1)
	if err != nil || auditCount(log) != 8 {
		t.Errorf("%d CSRF refusals audited, want 8 (%v)", auditCount(log), err)
	}
}

// TestCSRFTokenRotates: the token changes at every sign-in, and a signed-out
// session's token opens nothing.
func TestCSRFTokenRotates(t *testing.T) {
	s := newSite(t, 0)
	s.signIn(t, "ada@example.com")
	first := s.csrfToken(t, s.client)
	page := s.get(t, "/instances")
	if got, _ := page.doc.Find(`form[action="/logout"] input[name="_csrf"]`).Attr("value"); got != first {
		t.Fatalf("the page's token %q is not the session's %q", got, first)
	}
	s.signIn(t, "ada@example.com")
	second := s.csrfToken(t, s.client)
	if second == first || second == "" {
		t.Fatalf("token did not change at sign-in: %q then %q", first, second)
	}
	wantStatus(t, s.post(t, "/instances/refresh", url.Values{"_csrf": {first}}), http.StatusForbidden)
	wantStatus(t, s.post(t, "/logout", nil), http.StatusSeeOther)
	// Signed out, the old token is worth nothing: the request is a visitor's.
	r := s.post(t, "/instances/refresh", url.Values{"_csrf": {second}})
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/login" {
		t.Fatalf("after sign-out: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
}

func TestAuditExport(t *testing.T) {
	s := newSite(t, 0)
	s.signIn(t, "ada@example.com")
	// A target that a spreadsheet would run as a formula.
	s.post(t, "/access", url.Values{"email": {"=cmd@example.com"}, "role": {"Reader"}})
	r := s.get(t, "/audit/export.csv?action=role.")
	wantStatus(t, r, http.StatusOK)
	if ct := r.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" || !strings.Contains(r.Header.Get("Content-Disposition"), "attachment") {
		t.Errorf("headers = %v", r.Header)
	}
	lines := strings.Split(strings.TrimSpace(r.body), "\n")
	if len(lines) != 2 || lines[0] != "time_utc,user_name,user_email,action,target,result,reason,source_address,count" {
		t.Fatalf("csv = %q", r.body)
	}
	if !strings.Contains(lines[1], ",Ada Lovelace,ada@example.com,role.assign,'=cmd@example.com: Reader,failed,") {
		t.Errorf("row = %q", lines[1])
	}
}

// TestUnlockAccount: wrong passwords slow an account's sign-ins down; an
// Owner forgets them from the access page, and the audit log shows the
// refused sign-ins counted in one event.
func TestUnlockAccount(t *testing.T) {
	s := newSite(t, 0)
	// The refusals are tallied by the minute: the test's clock stays in
	// one, where the real clock may cross into the next between two.
	at := time.Now().Truncate(time.Minute).Add(30 * time.Second)
	s.Service.Now = func() time.Time { return at }
	var waited []time.Duration
	s.Service.Wait = func(_ context.Context, d time.Duration) error { waited = append(waited, d); return nil }
	s.EnsureUser(t, "grace@example.com", "Grace Hopper", instancehub.RoleReader)
	guesser := &site{Portal: s.Portal, server: s.server, client: newClient()}
	for range 5 {
		r := guesser.post(t, "/login", url.Values{"email": {"grace@example.com"}, "password": {"wrong"}})
		wantStatus(t, r, http.StatusUnauthorized)
	}
	if len(waited) == 0 {
		t.Fatal("repeated wrong passwords were not slowed down")
	}
	s.signIn(t, "ada@example.com")
	page := s.get(t, "/access")
	if page.doc.Find(`[data-testid="unlock-form"] option[value="grace@example.com"]`).Length() != 1 {
		t.Fatal("the access page has no unlock form listing Grace")
	}
	r := s.post(t, "/access/unlock", url.Values{"email": {"grace@example.com"}})
	wantStatus(t, r, http.StatusSeeOther)
	notice := text(s.get(t, "/access").doc.Find(".toast"))
	if !strings.Contains(notice, "Forgot 5 failed sign-ins of grace@example.com") {
		t.Errorf("notice = %q", notice)
	}
	waited = nil
	signIn(t, guesser, "grace@example.com")
	if len(waited) != 0 {
		t.Errorf("after unlock the sign-in still waited %v", waited)
	}
	audit := s.get(t, "/audit?action=session.signIn&result=denied")
	if got := text(audit.doc.Find(`[data-testid="audit-count"]`).First()); got != "5 times in that minute" {
		t.Errorf("audit count = %q", got)
	}
	wantStatus(t, s.post(t, "/access/unlock", url.Values{"email": {"nobody@example.com"}}), http.StatusUnprocessableEntity)
}

// TestGuessesFromTheSameAddressDoNotLockAColleagueOut: 25 wrong passwords
// at random emails from one address, then a colleague behind the same
// address signs in with theirs.
func TestGuessesFromTheSameAddressDoNotLockAColleagueOut(t *testing.T) {
	s := newSite(t, 0)
	s.Service.Wait = func(context.Context, time.Duration) error { return nil }
	for i := range 25 {
		r := s.post(t, "/login", url.Values{"email": {fmt.Sprintf("someone%d@example.com", i)}, "password": {"wrong password"}})
		wantStatus(t, r, http.StatusUnauthorized)
	}
	colleague := &site{Portal: s.Portal, server: s.server, client: newClient()}
	signIn(t, colleague, "ada@example.com")
}
