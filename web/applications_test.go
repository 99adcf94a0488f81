package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/apps"
	"github.com/instancehub/instancehub/internal/testportal"
	"github.com/instancehub/instancehub/static"
	"github.com/instancehub/instancehub/web"
)

// upstreamsFunc serves every application from one function.
type upstreamsFunc func(*instancehub.Instance, instancehub.Application) (*url.URL, string, error)

func (f upstreamsFunc) Upstream(_ context.Context, inst *instancehub.Instance, app instancehub.Application) (*url.URL, string, error) {
	return f(inst, app)
}

// TestApplicationsOpenOnTheirOwnOrigin: through the portal, the owner is sent
// to the application's own origin, which binds the sign-in to the browser
// and sends it back to the portal with its state; the portal then sends it
// there with a ticket, which signs that browser in; an application that
// cannot run says why on the portal's page; a state the origin did not make
// is refused; and a refusal on an application's origin has the portal's look.
func TestApplicationsOpenOnTheirOwnOrigin(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0)
	jupyter := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "token s3cret" || r.Header.Get("Cookie") != "" {
			http.Error(w, "bad credentials", http.StatusForbidden)
			return
		}
		io.WriteString(w, "jupyter home "+r.URL.Path)
	}))
	defer jupyter.Close()
	base, _ := url.Parse(jupyter.URL + "/")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var srv *web.Server
	var server *httptest.Server
	gw, err := apps.New(apps.Config{
		PortalOpen: func(name, slug, state string) string {
			return server.URL + "/instances/" + name + "/apps/" + slug + "/?" + url.Values{"state": {state}}.Encode()
		},
		Domain: "apps.localhost", Key: []byte(strings.Repeat("k", 32)), Service: p.Service, Logger: log,
		Upstreams: upstreamsFunc(func(inst *instancehub.Instance, app instancehub.Application) (*url.URL, string, error) {
			if app.Slug == "rstudio" {
				return nil, "", instancehub.Errorf(instancehub.EUNAVAILABLE, "RStudio cannot run here, for a reason.")
			}
			return base, "s3cret", nil
		}),
		Refuse: func(w http.ResponseWriter, r *http.Request, status int, msg string) {
			srv.RefuseApplication(w, r, status, msg)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()
	srv = web.New(web.Config{Static: static.FS, Logger: log, LocalAccounts: true, Applications: gw}, p.Service)
	server = httptest.NewServer(srv.Handler())
	defer server.Close()
	s := &site{Portal: p, server: server, client: newClient()}
	signIn(t, s, "ada@example.com")
	p.SeedNamed(t, "ada-box", p.User)

	// The application's origin is this same server, reached by its name.
	visit := func(c *http.Client, u *url.URL) *response {
		req, _ := http.NewRequest(http.MethodGet, server.URL+u.RequestURI(), nil)
		req.Host = u.Host
		for _, ck := range c.Jar.Cookies(&url.URL{Scheme: "http", Host: u.Host}) {
			req.AddCookie(ck)
		}
		resp := s.do(t, c, req)
		u2 := &url.URL{Scheme: "http", Host: u.Host}
		c.Jar.SetCookies(u2, resp.Cookies())
		return resp
	}
	r := s.get(t, "/instances/ada-box/apps/jupyter/")
	wantStatus(t, r, http.StatusSeeOther)
	start, _ := url.Parse(r.Header.Get("Location"))
	if start.Host != "ada-box--jupyter.apps.localhost" || start.Path != "/_instancehub/start" {
		t.Fatalf("open sends to %q, want the origin's start", r.Header.Get("Location"))
	}
	started := visit(s.client, start)
	wantStatus(t, started, http.StatusSeeOther)
	back, _ := url.Parse(started.Header.Get("Location"))
	if back.Host != strings.TrimPrefix(server.URL, "http://") || back.Path != "/instances/ada-box/apps/jupyter/" || back.Query().Get("state") == "" {
		t.Fatalf("the origin sends back to %q, want the portal with a state", started.Header.Get("Location"))
	}
	r = s.get(t, back.RequestURI())
	wantStatus(t, r, http.StatusSeeOther)
	ticket, _ := url.Parse(r.Header.Get("Location"))
	if ticket.Host != "ada-box--jupyter.apps.localhost" || ticket.Path != "/_instancehub/ticket" || ticket.Query().Get("t") == "" {
		t.Fatalf("open with the state sends to %q", r.Header.Get("Location"))
	}
	signedIn := visit(s.client, ticket)
	wantStatus(t, signedIn, http.StatusSeeOther)
	home := visit(s.client, &url.URL{Scheme: "http", Host: ticket.Host, Path: "/tree"})
	wantStatus(t, home, http.StatusOK)
	if home.body != "jupyter home /tree" {
		t.Errorf("application page = %q", home.body)
	}
	// The same ticket again is refused, in the portal's look.
	again := visit(newClient(), ticket)
	if again.StatusCode < 400 || again.doc.Find(`[data-testid="error-page"]`).Length() != 1 {
		t.Errorf("replayed ticket: %d\n%s", again.StatusCode, truncate(again.body))
	}
	// A state the origin did not make opens nothing.
	r = s.get(t, "/instances/ada-box/apps/jupyter/?state=made-up")
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if !strings.Contains(r.body, "This address does not open Jupyter.") {
		t.Errorf("a made-up state: the reason is not on the page\n%s", truncate(r.body))
	}
	// An application that cannot run says why, on the portal.
	r = s.get(t, "/instances/ada-box/apps/rstudio/")
	wantStatus(t, r, http.StatusOK)
	if got := text(r.doc.Find(`[data-testid="app-unavailable-reason"]`)); got != "RStudio cannot run here, for a reason." {
		t.Errorf("reason = %q", got)
	}
}

// TestApplicationsSayWhyTheyAreClosedInText: why an application does not
// open is in words on the page, which a keyboard and a screen reader reach,
// never only in a tooltip.
func TestApplicationsSayWhyTheyAreClosedInText(t *testing.T) {
	s := newSite(t, 0)
	s.signIn(t, "ada@example.com")
	s.create(t, "ada-box", nil)
	s.waitRunning(t, "ada-box")
	if _, err := s.Service.Act(s.Ctx, "ada-box", instancehub.OpStop); err != nil {
		t.Fatal(err)
	}
	s.WaitState(t, "ada-box", instancehub.StateStopped)
	for _, path := range []string{"/instances", "/instances/ada-box"} {
		page := s.get(t, path)
		if got := text(page.doc.Find(`[data-testid="apps-when-running"]`).First()); got != "Open when the instance is running." {
			t.Errorf("%s: the reason reads %q", path, got)
		}
		if page.doc.Find(`.app-links a, .apps a`).Length() != 0 || page.doc.Find(`.app-links [title], .apps [title]`).Length() != 0 {
			t.Errorf("%s: links or tooltips in the applications of a stopped instance", path)
		}
	}

	// Someone else sees who may open them.
	s.EnsureUser(t, "bob@example.com", "Bob", instancehub.RoleOwner)
	s.client = newClient()
	s.signIn(t, "bob@example.com")
	cell := s.get(t, "/instances").doc.Find(`tr[data-name="ada-box"] [data-testid="apps-owner-only"]`)
	if got := text(cell); got != "Owner only: only Ada Lovelace can open the applications" {
		t.Errorf("another user's row reads %q", got)
	}
}

// TestPortalAnswersOnlyOnItsOwnNames: the portal answers on its own names
// (or every name under one: "*.localhost:8080") and on no other, the
// trailing dot's spelling of them included (421); an
// application's host with a trailing dot is the gateway's, which names no
// application there (404), never the portal's; /healthz and /readyz answer
// load balancers on any name.
func TestPortalAnswersOnlyOnItsOwnNames(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	gw, err := apps.New(apps.Config{
		Domain: "apps.example.com", Key: []byte(strings.Repeat("k", 32)), Service: p.Service, Logger: log,
		Upstreams: upstreamsFunc(func(*instancehub.Instance, instancehub.Application) (*url.URL, string, error) {
			return nil, "", instancehub.Errorf(instancehub.EUNAVAILABLE, "Not here.")
		}),
		PortalOpen: func(name, slug, state string) string {
			return "http://portal.example.com/instances/" + name + "/apps/" + slug + "/?state=" + state
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()
	srv := web.New(web.Config{Static: static.FS, Logger: log, LocalAccounts: true, Applications: gw,
		Hosts: []string{"portal.example.com", "portal.example.com:80", "*.localhost:8080"}}, p.Service)
	tests := []struct {
		host, path string
		want       int
	}{
		{"portal.example.com", "/login", http.StatusOK},
		{"Portal.Example.COM:80", "/login", http.StatusOK},
		{"portal.example.com.", "/login", http.StatusMisdirectedRequest},
		{"portal.example.com.:80", "/login", http.StatusMisdirectedRequest},
		{"portal.example.com:8080", "/login", http.StatusMisdirectedRequest},
		{"rebound.example", "/login", http.StatusMisdirectedRequest},
		{"rebound.example", "/instances", http.StatusMisdirectedRequest},
		{"", "/login", http.StatusMisdirectedRequest},
		{"portal.example.localhost:8080", "/login", http.StatusOK},
		{"Portal.LOCALHOST:8080", "/login", http.StatusOK},
		{"portal.localhost.:8080", "/login", http.StatusMisdirectedRequest},
		{".localhost:8080", "/login", http.StatusMisdirectedRequest},
		{"a..localhost:8080", "/login", http.StatusMisdirectedRequest},
		{"portal.localhost:8081", "/login", http.StatusMisdirectedRequest},
		{"portal.notlocalhost:8080", "/login", http.StatusMisdirectedRequest},
		{"10.0.0.4:8080", "/healthz", http.StatusOK},
		{"10.0.0.4:8080", "/readyz", http.StatusOK},
		{"ada-box--jupyter.apps.example.com.", "/login", http.StatusNotFound},
		{"ada-box--jupyter.apps.example.com..:80", "/", http.StatusNotFound},
		{"apps.example.com.", "/login", http.StatusNotFound},
	}
	for _, tt := range tests {
		req := httptest.NewRequest(http.MethodGet, "http://portal.example.com"+tt.path, nil)
		req.Host = tt.host
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, req)
		if rec.Code != tt.want {
			t.Errorf("Host %q %s: %d, want %d", tt.host, tt.path, rec.Code, tt.want)
		}
		if tt.want != http.StatusOK && strings.Contains(rec.Body.String(), `name="password"`) {
			t.Errorf("Host %q %s: the portal's sign-in page", tt.host, tt.path)
		}
	}
}
