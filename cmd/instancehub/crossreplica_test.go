package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/instancehub/instancehub/internal/pgtest"
	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"golang.org/x/text/language"
)

// replicaHeader pins a request to one replica behind the test's load
// balancer; without it, requests take turns.
const replicaHeader = "X-Test-Replica"

// loadBalancer is a reverse proxy in front of the replicas, as any load
// balancer is: it keeps the Host a browser asked for.
func loadBalancer(t *testing.T, backends []string) *httptest.Server {
	t.Helper()
	proxies := make([]*httputil.ReverseProxy, len(backends))
	for i, b := range backends {
		u, err := url.Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		proxies[i] = httputil.NewSingleHostReverseProxy(u)
	}
	var turn atomic.Int64
	lb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(turn.Add(1)) % len(proxies)
		if pin := r.Header.Get(replicaHeader); pin != "" {
			fmt.Sscan(pin, &i)
			r.Header.Del(replicaHeader)
		}
		proxies[i].ServeHTTP(w, r)
	}))
	t.Cleanup(lb.Close)
	return lb
}

// lbBrowser is a browser behind which every *.localhost name reaches the
// load balancer, with cookies; it follows no redirect by itself.
type lbBrowser struct {
	*http.Client
	t *testing.T
}

func newLBBrowser(t *testing.T, lb string) *lbBrowser {
	jar, _ := cookiejar.New(nil)
	addr := strings.TrimPrefix(lb, "http://")
	return &lbBrowser{t: t, Client: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport: &http.Transport{DialContext: func(ctx context.Context, network, host string) (net.Conn, error) {
			if h, _, _ := net.SplitHostPort(host); strings.HasSuffix(h, ".localhost") {
				host = addr
			}
			return (&net.Dialer{}).DialContext(ctx, network, host)
		}},
	}}
}

// do sends a request to replica (-1: any) and returns the answer, its body read.
func (b *lbBrowser) do(replica int, method, u string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Accept", "text/html,*/*") // as a browser loads a page
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		origin, _ := url.Parse(u)
		req.Header.Set("Origin", origin.Scheme+"://"+origin.Host)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	if replica >= 0 {
		req.Header.Set(replicaHeader, fmt.Sprint(replica))
	}
	res, err := b.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	page, _ := io.ReadAll(io.LimitReader(res.Body, 4<<20))
	return res, string(page)
}

// provider is a standards-following OpenID Provider (zitadel/oidc's
// example), with one person in its directory.
type provider struct{}

var grace = &storage.User{
	ID: "grace-1", Username: "grace", Password: "a long password", FirstName: "Grace", LastName: "Hopper",
	Email: "grace@example.com", EmailVerified: true, PreferredLanguage: language.English,
}

func (provider) GetUserByID(id string) *storage.User {
	if id == grace.ID {
		return grace
	}
	return nil
}

func (provider) GetUserByUsername(name string) *storage.User {
	if name == grace.Username {
		return grace
	}
	return nil
}

func (provider) ExampleClientID() string { return storage.ServiceUserID }

var csrfField = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// TestStateWorksOnEveryReplica: two portal processes on one PostgreSQL
// database behind a load balancer, with one emulator process and a real
// OpenID Provider. Each step of a person's day is served by another
// replica than the step before: a password sign-in, a form whose CSRF
// token another replica wrote, an application ticket issued by one and
// redeemed by the other (and refused when replayed at the first, which
// kept spent tickets in its memory once), the application itself through
// either, and a single sign-on begun on one and finished on the other.
func TestStateWorksOnEveryReplica(t *testing.T) {
	const password = "the owner's long password"
	t.Setenv("INSTANCEHUB_ADMIN_PASSWORD", password)
	database := pgtest.NewDatabase(t)
	emuDir := t.TempDir()
	emu := startProcess(t, "emulator", "--addr", "127.0.0.1:0", "--data", emuDir, "--emulator-latency", "0")

	// The load balancer's address is the portal's, known before the
	// replicas start; its backends are set once they serve.
	var handler http.Handler = http.NotFoundHandler()
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(front.Close)
	_, lbPort, _ := net.SplitHostPort(front.Listener.Addr().String())

	idp := httptest.NewUnstartedServer(nil)
	issuer := "http://" + idp.Listener.Addr().String()
	clients := map[string]*storage.Client{"portal": storage.WebClient("portal", "portal-secret", front.URL+"/auth/oidc/callback")}
	idp.Config.Handler = exampleop.SetupServer(issuer, storage.NewStorageWithClients(provider{}, clients),
		slog.New(slog.NewTextHandler(io.Discard, nil)), false)
	idp.Start()
	t.Cleanup(idp.Close)

	var backends []string
	for range 2 {
		p := startProcess(t, "serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--database", database,
			"--emulator-url", emu.url, "--emulator-ca", emuDir+"/emulator-cert.pem", "--sync-interval", "1h",
			"--admin-email", "owner@example.com", "--apps-domain", "apps.localhost:"+lbPort,
			"--oidc-issuer", issuer, "--oidc-client-id", "portal", "--oidc-client-secret", "portal-secret",
			"--oidc-redirect-url", front.URL+"/auth/oidc/callback", "--public-url", front.URL)
		backends = append(backends, p.url)
	}
	handler = loadBalancer(t, backends).Config.Handler
	portal := front.URL

	// A password sign-in on replica 1; the session on both.
	b := newLBBrowser(t, portal)
	if res, page := b.do(0, "GET", portal+"/login", nil); res.StatusCode != http.StatusOK {
		t.Fatalf("login page: %d %s", res.StatusCode, page)
	}
	res, page := b.do(1, "POST", portal+"/login", url.Values{"email": {"owner@example.com"}, "password": {password}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %d %s", res.StatusCode, page)
	}
	for r := range 2 {
		if res, page := b.do(r, "GET", portal+"/instances", nil); res.StatusCode != http.StatusOK || !strings.Contains(page, "owner@example.com") {
			t.Fatalf("the list on replica %d: %d", r, res.StatusCode)
		}
	}

	// The create form from replica 0, sent to replica 1.
	_, page = b.do(0, "GET", portal+"/instances/new", nil)
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no CSRF token in the create form")
	}
	res, page = b.do(1, "POST", portal+"/instances", url.Values{"_csrf": {m[1]}, "name": {"shared-box"},
		"region": {"eastus"}, "vm_size": {"Standard_DS1_v2"}, "type": {"cpu"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("create with another replica's CSRF token: %d %s", res.StatusCode, page)
	}
	res, _ = b.do(0, "POST", portal+"/instances", url.Values{"_csrf": {"forged"}, "name": {"forged-box"},
		"region": {"eastus"}, "vm_size": {"Standard_DS1_v2"}, "type": {"cpu"}})
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("a forged CSRF token: %d, want 403", res.StatusCode)
	}
	for deadline := time.Now().Add(30 * time.Second); ; {
		if _, row := b.do(-1, "GET", portal+"/instances/shared-box/row", nil); strings.Contains(row, ">Running<") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("shared-box is not Running")
		}
		time.Sleep(100 * time.Millisecond)
	}

	// The application's origin on replica 1 binds the sign-in to the
	// browser; an application ticket for that browser issued by replica
	// 0, redeemed on replica 1, refused when replayed on replica 0.
	app := "http://shared-box--jupyter.apps.localhost:" + lbPort
	res, _ = b.do(0, "GET", portal+"/instances/shared-box/apps/jupyter/", nil)
	if start := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || start != app+"/_instancehub/start" {
		t.Fatalf("open Jupyter: %d to %q", res.StatusCode, start)
	}
	res, _ = b.do(1, "GET", app+"/_instancehub/start", nil)
	back := res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(back, portal+"/instances/shared-box/apps/jupyter/?state=") {
		t.Fatalf("the application's origin sends to %q", back)
	}
	res, _ = b.do(0, "GET", back, nil)
	ticket := res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(ticket, app+"/_instancehub/ticket?") {
		t.Fatalf("open Jupyter with the state: %d to %q", res.StatusCode, ticket)
	}
	res, page = b.do(1, "GET", ticket, nil)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" {
		t.Fatalf("the ticket on the other replica: %d to %q %s", res.StatusCode, res.Header.Get("Location"), page)
	}
	if res, _ = b.do(0, "GET", ticket, nil); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("the ticket replayed on the replica that issued it: %d, want 401", res.StatusCode)
	}
	// A visitor without the cookie is sent to open it from the portal, at
	// the address people open it at, not a replica's own.
	if res, _ = newLBBrowser(t, portal).do(1, "GET", app+"/tree", nil); !strings.HasPrefix(res.Header.Get("Location"), portal+"/instances/shared-box/apps/jupyter/?state=") {
		t.Errorf("a visitor without a sign-in: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	// Jupyter itself, through each replica, with the cookie one of them set.
	for r := range 2 {
		for deadline := time.Now().Add(60 * time.Second); ; {
			res, page = b.do(r, "GET", app+"/api/status", nil)
			if res.StatusCode == http.StatusOK && strings.Contains(page, `"started"`) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("Jupyter's status through replica %d: %d %.300s", r, res.StatusCode, page)
			}
			time.Sleep(250 * time.Millisecond)
		}
	}

	// Single sign-on begun on replica 0 and finished on replica 1.
	sso := newLBBrowser(t, portal)
	res, _ = sso.do(0, "GET", portal+"/auth/oidc/login", nil)
	authorize := res.Header.Get("Location")
	if !strings.HasPrefix(authorize, issuer) {
		t.Fatalf("single sign-on went to %q", authorize)
	}
	res, _ = sso.do(-1, "GET", authorize, nil)
	for res.StatusCode == http.StatusFound || res.StatusCode == http.StatusSeeOther {
		next, _ := res.Request.URL.Parse(res.Header.Get("Location"))
		res, _ = sso.do(-1, "GET", next.String(), nil)
	}
	id := res.Request.URL.Query().Get("authRequestID")
	if id == "" {
		t.Fatalf("the provider's login page: %d at %s", res.StatusCode, res.Request.URL)
	}
	res, _ = sso.do(-1, "POST", issuer+"/login/username", url.Values{"id": {id}, "username": {grace.Username}, "password": {grace.Password}})
	for res.StatusCode == http.StatusFound && !strings.HasPrefix(res.Header.Get("Location"), portal) {
		next, _ := res.Request.URL.Parse(res.Header.Get("Location"))
		res, _ = sso.do(-1, "GET", next.String(), nil)
	}
	callback := res.Header.Get("Location")
	if !strings.HasPrefix(callback, portal+"/auth/oidc/callback?") {
		t.Fatalf("the provider sent the browser to %q", callback)
	}
	if res, page = sso.do(1, "GET", callback, nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("the callback on the other replica: %d %s", res.StatusCode, page)
	}
	// Signed in (a stranger is sent to the sign-in page), as a person
	// no Owner has given a role yet.
	if res, page = sso.do(0, "GET", portal+"/instances", nil); res.StatusCode != http.StatusForbidden || !strings.Contains(page, "Grace Hopper") {
		t.Errorf("after single sign-on, the list on replica 0: %d %s", res.StatusCode, page)
	}
}
