package main

import (
	"crypto/tls"
	"io"
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
)

// TestServeBehindATLSProxy: behind a reverse proxy that terminates TLS and
// says nothing of it (no X-Forwarded-Proto, as HAProxy's and many load
// balancers' defaults), a portal whose --public-url is https sets its
// cookies Secure and __Host-, sends HSTS, and hands out links to set a
// password over https: the token must not travel over plain HTTP, even for
// the one hop a redirect to https would take. The portal's address as
// people open it says it is served over TLS; no header a client may send
// decides.
func TestServeBehindATLSProxy(t *testing.T) {
	var portal atomic.Pointer[url.URL]
	proxy := httptest.NewTLSServer(&httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(portal.Load())
		pr.Out.Host = pr.In.Host // the name as the browser sent it
	}})
	defer proxy.Close()

	t.Setenv("INSTANCEHUB_ADMIN_PASSWORD", "correct-horse-battery")
	var c Config
	args := []string{"--data", t.TempDir(), "--admin-email", "owner@example.com", "--emulator-latency", "0", "--sync-interval", "1h",
		"--public-url", proxy.URL, "--trusted-proxies", "127.0.0.1"}
	if err := parse("serve", args, io.Discard, c.bindServe); err != nil {
		t.Fatal(err)
	}
	addr, _ := startServe(t, c)
	portal.Store(&url.URL{Scheme: "http", Host: strings.TrimPrefix(addr, "http://")})

	jar, _ := cookiejar.New(nil)
	client := &http.Client{Timeout: 10 * time.Second, Jar: jar,
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.PostForm(proxy.URL+"/login", url.Values{"email": {"owner@example.com"}, "password": {"correct-horse-battery"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	secure := false
	for _, ck := range res.Cookies() {
		secure = secure || ck.Name == "__Host-instancehub_session" && ck.Secure
	}
	if res.StatusCode != http.StatusSeeOther || !secure || !strings.HasPrefix(res.Header.Get("Strict-Transport-Security"), "max-age=") {
		t.Errorf("sign-in behind the proxy: %d, cookies %v, HSTS %q; want a Secure __Host-instancehub_session and HSTS",
			res.StatusCode, res.Header.Values("Set-Cookie"), res.Header.Get("Strict-Transport-Security"))
	}

	page := getWith(t, client, proxy.URL+"/access/users/new")
	token := regexp.MustCompile(`name="_csrf" value="([^"]+)"`).FindStringSubmatch(page)
	if token == nil {
		t.Fatalf("no CSRF token on the page that adds a user:\n%s", page)
	}
	res, err = client.PostForm(proxy.URL+"/access/users", url.Values{"_csrf": {token[1]}, "email": {"nora@example.com"}, "name": {"Nora New"}, "role": {"Data Scientist"}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	link := regexp.MustCompile(`data-testid="password-link">([^<]+)<`).FindStringSubmatch(string(body))
	if link == nil || !strings.HasPrefix(link[1], proxy.URL+"/set-password?token=") {
		t.Errorf("the link that sets Nora's password behind the proxy: %q, want it under %s", link, proxy.URL)
	}
}

// getWith returns the body of a page that must answer 200 to client.
func getWith(t *testing.T, client *http.Client, u string) string {
	t.Helper()
	res, err := client.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d\n%s", u, res.StatusCode, b)
	}
	return string(b)
}
