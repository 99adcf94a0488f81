package web_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/internal/testportal"
	"github.com/instancehub/instancehub/static"
	"github.com/instancehub/instancehub/web"
)

// site is the portal behind a test HTTP server, and a browser-like client.
type site struct {
	*testportal.Portal
	server *httptest.Server
	client *http.Client
	web    *web.Server
}

func newSite(t *testing.T, latency float64) *site {
	t.Helper()
	return siteOver(t, testportal.Open(t, t.TempDir(), latency))
}

// siteOver serves the portal p, as newSite does its own.
func siteOver(t *testing.T, p *testportal.Portal) *site {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	// One clock for the site, as in the portal: the pages the web layer
	// keeps are kept by the minute of the service's clock, which a test
	// may move (s.Service.Now).
	now := func() time.Time {
		if p.Service.Now != nil {
			return p.Service.Now()
		}
		return time.Now()
	}
	srv := web.New(web.Config{Workspace: "Test workspace", Static: static.FS, Logger: log, LocalAccounts: true, Now: now}, p.Service)
	server := httptest.NewServer(srv.Handler())
	t.Cleanup(server.Close)
	return &site{Portal: p, server: server, client: newClient(), web: srv}
}

func newClient() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// response is a page as the test reads it.
type response struct {
	*http.Response
	doc  *goquery.Document
	body string
}

func (s *site) do(t testing.TB, c *http.Client, req *http.Request) *response {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	html := string(b)
	if strings.HasPrefix(strings.TrimSpace(html), "<tr") {
		// A row alone would lose its cells to the HTML parser.
		html = "<table><tbody>" + html + "</tbody></table>"
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(html))
	if err != nil {
		t.Fatal(err)
	}
	return &response{Response: resp, doc: doc, body: string(b)}
}

func (s *site) get(t *testing.T, path string, headers ...string) *response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.server.URL+path, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return s.do(t, s.client, req)
}

// csrfToken is the token of this client's session, as its pages carry it;
// "" when it is signed out (nothing to bind a token to).
func (s *site) csrfToken(t testing.TB, c *http.Client) string {
	t.Helper()
	u, _ := url.Parse(s.server.URL)
	for _, cookie := range c.Jar.Cookies(u) {
		if cookie.Name == "instancehub_session" {
			return instancehub.CSRFToken(cookie.Value)
		}
	}
	return ""
}

// post submits a form the way the page does, token included.
func (s *site) post(t testing.TB, path string, form url.Values, headers ...string) *response {
	t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if form.Get("_csrf") == "" {
		form.Set("_csrf", s.csrfToken(t, s.client))
	}
	req, _ := http.NewRequest(http.MethodPost, s.server.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return s.do(t, s.client, req)
}

func (s *site) signIn(t *testing.T, email string) { signIn(t, s, email) }

func signIn(t testing.TB, s *site, email string) {
	t.Helper()
	r := s.post(t, "/login", url.Values{"email": {email}, "password": {testportal.Password}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in %s: status %d", email, r.StatusCode)
	}
}

func wantStatus(t *testing.T, r *response, status int) {
	t.Helper()
	if r.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d\n%s", r.Request.Method, r.Request.URL.Path, r.StatusCode, status, truncate(r.body))
	}
}

func truncate(s string) string {
	if len(s) > 2000 {
		return s[:2000] + "…"
	}
	return s
}

func text(sel *goquery.Selection) string { return strings.Join(strings.Fields(sel.Text()), " ") }

// texts is the text of each element of sel.
func texts(sel *goquery.Selection) []string {
	return sel.Map(func(_ int, s *goquery.Selection) string { return text(s) })
}

func (s *site) create(t *testing.T, name string, extra url.Values) *response {
	t.Helper()
	form := url.Values{"name": {name}, "region": {"eastus"}, "vm_size": {"Standard_DS3_v2"}}
	for k, v := range extra {
		form[k] = v
	}
	return s.post(t, "/instances", form)
}

func (s *site) waitRunning(t *testing.T, name string) *instancehub.Instance {
	t.Helper()
	return s.WaitState(t, name, instancehub.StateRunning)
}

// auditCount adds up the events of a page of the audit log: refusals
// repeated within a minute are counted in one event.
func auditCount(p *instancehub.AuditPage) int {
	n := 0
	for _, e := range p.Events {
		n += e.Count
	}
	return n
}
