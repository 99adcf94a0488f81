package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/instancehub/instancehub/oidc"
	"github.com/oauth2-proxy/mockoidc"
)

// TestServeWhileTheIdentityProviderIsDown: a portal started while its
// OpenID Provider answers nothing but 503 (as when both start together)
// serves anyway: password sign-in works, and the sign-in page says why
// single sign-on is unavailable. Once the provider is up, the next retry
// turns single sign-on on, without a restart, and a person signs in with it.
func TestServeWhileTheIdentityProviderIsDown(t *testing.T) {
	const password = "the owner's long password"
	t.Setenv("INSTANCEHUB_ADMIN_PASSWORD", password)
	idp, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	var down atomic.Bool
	down.Store(true)
	_ = idp.AddMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if down.Load() {
				http.Error(w, "starting", http.StatusServiceUnavailable)
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	idpListener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := idp.Start(idpListener, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = idp.Shutdown() })

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	portal := "http://" + ln.Addr().String()
	var c Config
	args := []string{"--data", t.TempDir(), "--admin-email", "owner@example.com", "--emulator-latency", "0", "--sync-interval", "1h",
		"--oidc-issuer", idp.Issuer(), "--oidc-client-id", idp.ClientID, "--oidc-client-secret", idp.ClientSecret,
		"--oidc-redirect-url", portal + "/auth/oidc/callback", "--oidc-name", "Contoso ID"}
	if err := parse("serve", args, io.Discard, c.bindServe); err != nil {
		t.Fatal(err)
	}
	waits, fire := make(chan time.Duration, 64), make(chan time.Time)
	c.ssoRetry = oidc.Retry{After: func(d time.Duration) <-chan time.Time { waits <- d; return fire }}
	var logs syncBuffer
	m := &Main{Config: c, Listener: ln, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	if err := m.Run(context.Background()); err != nil {
		t.Fatalf("the portal did not start while the provider is down: %v\n%s", err, logs.String())
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	if !strings.Contains(logs.String(), `level=WARN msg="single sign-on is unavailable`) || !strings.Contains(logs.String(), "503") {
		t.Errorf("the log does not say single sign-on is unavailable, and why:\n%s", logs.String())
	}

	// Password sign-in works; the sign-in page says why single sign-on does not.
	b := newBrowser(t)
	_, page := b.do("GET", portal+"/login", nil)
	if !strings.Contains(page, `data-testid="sso-unavailable"`) || strings.Contains(page, `data-testid="sso"`) ||
		!strings.Contains(page, "Single sign-on with Contoso ID is unavailable") || !strings.Contains(page, "The identity provider did not answer as expected.") {
		t.Errorf("the sign-in page while the provider is down:\n%s", page)
	}
	if res, page := b.do("POST", portal+"/login", url.Values{"email": {"owner@example.com"}, "password": {password}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("password sign-in while the provider is down: %d\n%s", res.StatusCode, page)
	}
	if res, _ := b.do("GET", portal+"/instances", nil); res.StatusCode != http.StatusOK {
		t.Errorf("the list after a password sign-in: %d", res.StatusCode)
	}

	// The provider comes up; the next retry finds it.
	if d := <-waits; d != time.Second {
		t.Errorf("the first retry waits %s, want 1s", d)
	}
	down.Store(false)
	fire <- time.Now()
	sso := newBrowser(t)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, page := sso.do("GET", portal+"/login", nil); strings.Contains(page, `data-testid="sso"`) {
			if !strings.Contains(page, "Sign in with Contoso ID") || strings.Contains(page, "sso-unavailable") {
				t.Errorf("the sign-in page once the provider is up:\n%s", page)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("single sign-on did not come back:\n%s", logs.String())
		}
	}
	if !strings.Contains(logs.String(), `msg="single sign-on is available"`) {
		t.Errorf("the log does not say single sign-on is back:\n%s", logs.String())
	}

	// Single sign-on, from the portal to the provider and back.
	res, _ := sso.do("GET", portal+"/auth/oidc/login?next=/instances", nil)
	authorize := res.Header.Get("Location")
	if res.StatusCode != http.StatusFound || !strings.HasPrefix(authorize, idp.Issuer()) {
		t.Fatalf("single sign-on went to %d %q", res.StatusCode, authorize)
	}
	res, _ = sso.do("GET", authorize, nil)
	callback := res.Header.Get("Location")
	if !strings.HasPrefix(callback, portal+"/auth/oidc/callback?") {
		t.Fatalf("the provider sent the browser to %d %q", res.StatusCode, callback)
	}
	if res, page := sso.do("GET", callback, nil); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/instances" {
		t.Fatalf("the callback: %d to %q\n%s", res.StatusCode, res.Header.Get("Location"), page)
	}
	// Signed in, as a person no Owner has given a role yet.
	if res, page := sso.do("GET", portal+"/instances", nil); res.StatusCode != http.StatusForbidden || !strings.Contains(page, "jane.doe@example.com") {
		t.Errorf("after single sign-on, the list: %d\n%s", res.StatusCode, page)
	}
	select {
	case d := <-waits:
		t.Errorf("discovery is tried again (after %s) once it succeeded", d)
	default:
	}
}

// browser is a client with cookies that follows no redirect by itself.
type browser struct {
	*http.Client
	t *testing.T
}

func newBrowser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, Client: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// do sends a request as a browser on the page would, and reads the answer.
func (b *browser) do(method, u string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Accept", "text/html,*/*")
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		origin, _ := url.Parse(u)
		req.Header.Set("Origin", origin.Scheme+"://"+origin.Host)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	res, err := b.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	page, _ := io.ReadAll(io.LimitReader(res.Body, 4<<20))
	return res, string(page)
}
