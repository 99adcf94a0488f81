package web_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/internal/testportal"
	"github.com/instancehub/instancehub/oidc"
	"github.com/instancehub/instancehub/static"
	"github.com/instancehub/instancehub/web"
	"github.com/oauth2-proxy/mockoidc"
)

// ssoSite is the portal with single sign-on against a real OpenID Connect
// provider running in-process.
type ssoSite struct {
	*site
	issuer *mockoidc.MockOIDC
}

func newSSOSite(t *testing.T) *ssoSite {
	t.Helper()
	issuer, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = issuer.Shutdown() })
	p := testportal.Open(t, t.TempDir(), 0)
	p.Service.RoleMap = map[string]instancehub.Role{"ds-team": instancehub.RoleDataScientist}
	var handler http.Handler
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(server.Close)
	provider, err := oidc.New(t.Context(), oidc.Config{
		IssuerURL: issuer.Issuer(), ClientID: issuer.ClientID, ClientSecret: issuer.ClientSecret,
		RedirectURL: server.URL + "/auth/oidc/callback",
		Scopes:      []string{"openid", "profile", "email", "groups"}, GroupsClaim: "groups",
	})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	handler = web.New(web.Config{Static: static.FS, Logger: log, LocalAccounts: true, Identity: provider}, p.Service).Handler()
	return &ssoSite{site: &site{Portal: p, server: server, client: newClient()}, issuer: issuer}
}

// follow makes one request as the browser would, without following a redirect.
func (s *ssoSite) follow(t *testing.T, rawURL string) *http.Response {
	t.Helper()
	resp, err := s.client.Get(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// toProvider starts a sign-in and returns the provider's answer: the
// callback URL with code and state.
func (s *ssoSite) toProvider(t *testing.T) *url.URL {
	t.Helper()
	start := s.follow(t, s.server.URL+"/auth/oidc/login?next=/instances/new")
	if start.StatusCode != http.StatusFound || !strings.HasPrefix(start.Header.Get("Location"), s.issuer.Issuer()) {
		t.Fatalf("sign-in start: %d to %q", start.StatusCode, start.Header.Get("Location"))
	}
	answer := s.follow(t, start.Header.Get("Location"))
	back, err := url.Parse(answer.Header.Get("Location"))
	if err != nil || answer.StatusCode != http.StatusFound {
		t.Fatalf("provider answer: %d %q", answer.StatusCode, answer.Header.Get("Location"))
	}
	return back
}

func TestSingleSignOn(t *testing.T) {
	s := newSSOSite(t)
	s.issuer.QueueUser(&mockoidc.MockUser{Subject: "grace-1", Email: "grace@example.com", EmailVerified: true, Groups: []string{"ds-team", "other"}})
	login := s.get(t, "/login")
	if text(login.doc.Find(`[data-testid="sso"]`)) != "Sign in with single sign-on" {
		t.Errorf("sign-in button = %q", text(login.doc.Find(`[data-testid="sso"]`)))
	}
	back := s.toProvider(t)
	done := s.follow(t, back.String())
	if done.StatusCode != http.StatusSeeOther || done.Header.Get("Location") != "/instances/new" {
		t.Fatalf("callback: %d to %q", done.StatusCode, done.Header.Get("Location"))
	}
	user, err := s.DB.FindUserByEmail(s.Ctx, "grace@example.com")
	if err != nil || user.Subject != s.issuer.Issuer()+"#grace-1" || user.PasswordHash != "" {
		t.Fatalf("user = %+v, %v", user, err)
	}
	roles, _ := s.DB.UserRoles(s.Ctx, user.ID)
	if len(roles) != 1 || roles[0] != instancehub.RoleDataScientist {
		t.Errorf("roles from groups = %v", roles)
	}
	log, _ := s.Service.AuditEvents(s.Ctx, instancehub.AuditFilter{Action: "role.assign"}, 1)
	if log.Total != 1 || log.Events[0].Target != "grace@example.com: Data Scientist (single sign-on groups)" {
		t.Errorf("the role from groups is not audited: %+v", log.Events)
	}
	// Signed in, with the mapped role: the create form opens.
	wantStatus(t, s.get(t, "/instances/new"), http.StatusOK)
	// The same answer cannot be used twice.
	again := s.follow(t, back.String())
	if loc := again.Header.Get("Location"); loc != "/login" {
		t.Errorf("replayed answer: %d to %q", again.StatusCode, loc)
	}
}

func TestSingleSignOnRefusesBadState(t *testing.T) {
	s := newSSOSite(t)
	back := s.toProvider(t)
	q := back.Query()
	q.Set("state", "forged-state")
	back.RawQuery = q.Encode()
	r := s.follow(t, back.String())
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/login" {
		t.Fatalf("bad state: %d to %q", r.StatusCode, r.Header.Get("Location"))
	}
	if msg := text(s.get(t, "/login").doc.Find(`[data-testid="login-error"]`)); !strings.Contains(msg, "does not belong to a sign-in started in this browser") {
		t.Errorf("sign-in page says %q", msg)
	}
	if n, _ := s.DB.CountUsers(s.Ctx); n != 1 {
		t.Errorf("%d users after a refused sign-in, want only the test's own", n)
	}
	// An answer from another browser (no cookie) is refused too.
	answer := s.toProvider(t)
	s.client = newClient()
	r = s.follow(t, answer.String())
	if loc := r.Header.Get("Location"); loc != "/login" {
		t.Errorf("answer in another browser: %d to %q", r.StatusCode, loc)
	}
	// A link from elsewhere cannot write on the sign-in page, nor in the log.
	if msg := text(s.get(t, "/login?error=Your+account+is+locked.+Call+555-0100").doc.Find(`[data-testid="login-error"]`)); strings.Contains(msg, "555") {
		t.Errorf("the sign-in page shows a message from its address: %q", msg)
	}
	s.follow(t, s.server.URL+"/auth/oidc/callback?error=x&error_description=Call+555-0100")
	// Nor can a cookie set by someone else: the message must carry the server's signature.
	u, _ := url.Parse(s.server.URL + "/login")
	s.client.Jar.SetCookies(u, []*http.Cookie{{Name: "instancehub_login_error", Value: "Call 555-0100", Path: "/login"}})
	if msg := text(s.get(t, "/login").doc.Find(`[data-testid="login-error"]`)); strings.Contains(msg, "555") {
		t.Errorf("the sign-in page shows an unsigned cookie: %q", msg)
	}
	log, _ := s.Service.AuditEvents(s.Ctx, instancehub.AuditFilter{Action: "session.signIn", Result: instancehub.AuditDenied}, 1)
	if auditCount(log) != 3 {
		t.Errorf("%d refused sign-ins audited, want 3", auditCount(log))
	}
	for _, e := range log.Events {
		if strings.Contains(e.Reason, "555") {
			t.Errorf("the audit log took words from a link: %q", e.Reason)
		}
	}
}

func TestLocalAccountsOff(t *testing.T) {
	s := newSite(t, 0)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	server := httptest.NewServer(web.New(web.Config{Static: static.FS, Logger: log, LocalAccounts: false}, s.Service).Handler())
	t.Cleanup(server.Close)
	s.server = server
	r := s.post(t, "/login", url.Values{"email": {"ada@example.com"}, "password": {testportal.Password}})
	wantStatus(t, r, http.StatusForbidden)
	if r.doc.Find("#password").Length() != 0 {
		t.Error("the password form is shown with local accounts off")
	}
}

// TestSignInWhileSingleSignOnIsUnavailable: while the identity provider
// cannot be reached, the sign-in page says so and why, in place of the
// single sign-on button, and password sign-in works; beginning a single
// sign-on leads back to that page. With password sign-in off, the page
// says that nobody can sign in, and why.
func TestSignInWhileSingleSignOnIsUnavailable(t *testing.T) {
	provider, err := oidc.Start(t.Context(), oidc.Config{
		IssuerURL: "http://127.0.0.1:1/oidc", ClientID: "portal", RedirectURL: "http://portal.example.com/auth/oidc/callback",
		DisplayName: "Contoso ID", Retry: oidc.Retry{After: func(time.Duration) <-chan time.Time { return nil }},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, local := range []bool{true, false} {
		s := newSite(t, 0)
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		s.server = httptest.NewServer(web.New(web.Config{Static: static.FS, Logger: log, LocalAccounts: local, Identity: provider}, s.Service).Handler())
		t.Cleanup(s.server.Close)

		page := s.get(t, "/login?next=/instances/new")
		wantStatus(t, page, http.StatusOK)
		notice := text(page.doc.Find(`[data-testid="sso-unavailable"]`))
		if page.doc.Find(`[data-testid="sso"]`).Length() != 0 {
			t.Errorf("local %v: the single sign-on button is offered", local)
		}
		if !strings.Contains(notice, "The identity provider could not be reached.") || !strings.Contains(notice, "comes back by itself") {
			t.Errorf("local %v: the notice does not say why: %q", local, notice)
		}
		if local {
			if !strings.HasPrefix(notice, "Single sign-on with Contoso ID is unavailable") || !strings.Contains(notice, "Sign in with your password meanwhile") {
				t.Errorf("the notice says %q", notice)
			}
			s.signIn(t, "ada@example.com")
			wantStatus(t, s.get(t, "/instances"), http.StatusOK)
		} else {
			if !strings.HasPrefix(notice, "Signing in is unavailable") || !strings.Contains(notice, "the only way to sign in here") {
				t.Errorf("with password sign-in off, the notice says %q", notice)
			}
			if page.doc.Find("#password").Length() != 0 {
				t.Error("the password form is shown with local accounts off")
			}
		}
		begin := s.get(t, "/auth/oidc/login?next=/instances/new")
		if begin.StatusCode != http.StatusSeeOther || begin.Header.Get("Location") != "/login?next=%2Finstances%2Fnew" {
			t.Errorf("local %v: beginning a single sign-on: %d to %q", local, begin.StatusCode, begin.Header.Get("Location"))
		}
	}
}
