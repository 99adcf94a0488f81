package web_test

import (
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"strings"
	"testing"

	"github.com/instancehub/instancehub/apps"
	"github.com/instancehub/instancehub/internal/testportal"
	"github.com/instancehub/instancehub/localapps"
	"github.com/instancehub/instancehub/static"
	"github.com/instancehub/instancehub/web"
)

// TestARestartedJupyterIsSaidOnTheNextOpen: with --jupyter-max 1, Ada opens
// Jupyter on one instance, then on another, which stops the first's (real
// Jupyter servers, each in its sandbox, through the real gateway). Her next
// open of the first says so before going on, once: its server restarted,
// the portal runs at most 1 at once; the instance whose server runs opens
// at once, as does the first once restarted.
func TestARestartedJupyterIsSaidOnTheNextOpen(t *testing.T) {
	jupyter, err := exec.LookPath("jupyter")
	if err != nil {
		t.Fatal("jupyter is not installed: run `make test`, which installs Debian's jupyter-notebook")
	}
	p := testportal.Open(t, t.TempDir(), 0)
	terminal, _ := fs.Sub(static.FS, "vendor/xterm")
	servers := localapps.New(localapps.Config{Jupyter: jupyter, DataDir: p.Dir, MaxServers: 1, Terminal: terminal})
	t.Cleanup(func() { _ = servers.Close() })
	p.Service.Applications = servers
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var srv *web.Server
	var server *httptest.Server
	gw, err := apps.New(apps.Config{
		PortalOpen: func(name, slug, state string) string {
			return server.URL + "/instances/" + name + "/apps/" + slug + "/?" + url.Values{"state": {state}}.Encode()
		},
		Domain: "apps.localhost", Key: []byte(strings.Repeat("k", 32)), Service: p.Service, Logger: log,
		Upstreams: servers, Dial: servers.DialContext, Running: servers.Serving,
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
	p.SeedNamed(t, "first-box", p.User)
	p.SeedNamed(t, "second-box", p.User)

	// visit asks this server for u, whichever origin it names.
	visit := func(u *url.URL) *response {
		req, _ := http.NewRequest(http.MethodGet, server.URL+u.RequestURI(), nil)
		req.Host = u.Host
		for _, ck := range s.client.Jar.Cookies(&url.URL{Scheme: "http", Host: u.Host}) {
			req.AddCookie(ck)
		}
		resp := s.do(t, s.client, req)
		s.client.Jar.SetCookies(&url.URL{Scheme: "http", Host: u.Host}, resp.Cookies())
		return resp
	}
	location := func(r *response) *url.URL {
		t.Helper()
		wantStatus(t, r, http.StatusSeeOther)
		u, err := url.Parse(r.Header.Get("Location"))
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	// use follows the open from the start on the application's origin to
	// Jupyter's answer there, which starts its server.
	use := func(start *url.URL) {
		t.Helper()
		back := location(visit(start))
		ticket := location(s.get(t, back.RequestURI()))
		location(visit(ticket))
		status := visit(&url.URL{Scheme: "http", Host: ticket.Host, Path: "/api/status"})
		wantStatus(t, status, http.StatusOK)
	}
	open := func(name string) *response { return s.get(t, "/instances/"+name+"/apps/jupyter/") }

	use(location(open("first-box")))
	use(location(open("second-box"))) // the first's server is stopped to make room
	r := open("first-box")
	wantStatus(t, r, http.StatusOK)
	const said = "Jupyter on first-box restarted: the portal runs at most 1 at once, and stopped this one, the least recently used, to start another."
	if got := text(r.doc.Find(`[data-testid="app-restarted-notice"]`)); !strings.HasPrefix(got, said) {
		t.Fatalf("the next open of first-box says %q, want %q", got, said)
	}
	link := r.doc.Find(`[data-testid="app-restarted"] a.button`)
	href, _ := link.Attr("href")
	if text(link) != "Open Jupyter" || !strings.HasPrefix(href, "http://first-box--jupyter.apps.localhost/_instancehub/start") {
		t.Fatalf("the way on: %q to %q", text(link), href)
	}
	start, _ := url.Parse(href)
	use(start)
	if r := open("first-box"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("first-box, restarted, opens with %d, want at once", r.StatusCode)
	}
	if r := open("second-box"); r.StatusCode != http.StatusOK || r.doc.Find(`[data-testid="app-restarted"]`).Length() != 1 {
		t.Errorf("second-box, stopped in turn, opens with %d and no word of it", r.StatusCode)
	}
}
