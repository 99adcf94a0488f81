package e2e

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mxschmitt/playwright-go"
)

// TestPortalBehindNginx runs the portal behind Debian's nginx with
// docs/deploy/nginx.conf, rendered for this test's ports and names, and
// certificates made here: one for the portal and a wildcard one for the
// applications, both issued by a CA of the test's own. A browser signs in
// over https through nginx, opens Jupyter on the applications' origin
// through nginx, and runs a cell over the kernel's WebSocket, which nginx
// logs as upgraded (101). The names are under localhost, which Chromium
// takes to this machine without DNS.
//
// Chromium trusts the test's CA through --ignore-certificate-errors-spki-list
// with that CA's key: certificate errors are ignored only for chains holding
// a certificate of that key, which only this test can issue, where
// IgnoreHttpsErrors would accept any certificate on any host; adding the CA
// to an NSS database would need certutil and a home of the browser's own.
// That flag also forgives a certificate's wrong name, so a Go client that
// trusts the CA alone checks each name's certificate as a browser would.
func TestPortalBehindNginx(t *testing.T) {
	if _, err := exec.LookPath("jupyter"); err != nil {
		t.Fatal("jupyter is not installed: run `make test`, which installs Debian's jupyter-notebook")
	}
	nginx := nginxPath(t)
	dir := t.TempDir()
	httpsPort, httpPort := freePort(t), freePort(t)
	portalHost := "portal.localhost:" + httpsPort
	base := "https://" + portalHost
	// As docs/deploy/instancehub.env configures it: an https address, which
	// makes the cookies Secure without --secure-cookies.
	p := startPortal(t, "--public-url", base, "--apps-domain", "apps.localhost:"+httpsPort, "--trusted-proxies", "127.0.0.1")
	ca := newTestCA(t)
	ca.issue(t, dir, "portal", "portal.localhost")
	ca.issue(t, dir, "apps", "*.apps.localhost")
	startNginx(t, nginx, dir, renderDeployFile(t, "nginx.conf", []replacement{
		{"portal.example.com", "portal.localhost"},
		{"apps.example.com", "apps.localhost"},
		{"127.0.0.1:8080", strings.TrimPrefix(p.URL, "http://")},
		{"listen 443 ssl http2;", "listen 127.0.0.1:" + httpsPort + " ssl http2;"},
		{"listen 80;", "listen 127.0.0.1:" + httpPort + ";"},
		// The test listens on IPv4's loopback only.
		{"listen [::]:443 ssl http2;", ""},
		{"listen [::]:80;", ""},
		{"/etc/ssl/instancehub/portal.fullchain.pem", filepath.Join(dir, "portal.fullchain.pem")},
		{"/etc/ssl/instancehub/portal.key", filepath.Join(dir, "portal.key")},
		{"/etc/ssl/instancehub/apps.fullchain.pem", filepath.Join(dir, "apps.fullchain.pem")},
		{"/etc/ssl/instancehub/apps.key", filepath.Join(dir, "apps.key")},
	}), httpsPort)

	// Each name gets a certificate for it, as a client trusting the CA
	// alone checks; plain HTTP is sent to HTTPS.
	client := ca.client("127.0.0.1", httpsPort, nil)
	for _, u := range []string{base + "/healthz", "https://lab-box--jupyter.apps.localhost:" + httpsPort + "/"} {
		res, err := client.Get(u)
		if err != nil {
			t.Fatalf("GET %s through nginx: %v", u, err)
		}
		res.Body.Close()
	}
	plain := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1:"+httpPort+"/instances?x=1", nil)
	req.Host = "portal.localhost"
	res, err := plain.Do(req)
	must(t, err)
	res.Body.Close()
	if loc := res.Header.Get("Location"); res.StatusCode != http.StatusMovedPermanently || loc != "https://portal.localhost/instances?x=1" {
		t.Errorf("plain HTTP answered %d, Location %q; want 301 to https", res.StatusCode, loc)
	}

	// A body over the portal's 64 KiB is refused by nginx; one of 64 KiB
	// reaches the portal.
	for size, want := range map[int]bool{64 << 10: false, 64<<10 + 1: true} {
		res, err := client.Post(base+"/login", "application/x-www-form-urlencoded", bytes.NewReader(bytes.Repeat([]byte("a"), size)))
		must(t, err)
		res.Body.Close()
		if refused := res.StatusCode == http.StatusRequestEntityTooLarge; refused != want {
			t.Errorf("a body of %d bytes through nginx: %d", size, res.StatusCode)
		}
	}

	trusting := launchTrusting(t, ca)
	bctx, err := trusting.NewContext(playwright.BrowserNewContextOptions{Viewport: &playwright.Size{Width: 1440, Height: 900}, Locale: playwright.String("en-US")})
	must(t, err)
	page, err := bctx.NewPage()
	must(t, err)
	page.On("pageerror", func(err error) { t.Errorf("script error: %v", err) })
	signIn(t, page, base, "admin@example.com", adminPassword)
	cookies, err := bctx.Cookies(base)
	must(t, err)
	for _, c := range cookies {
		if !strings.HasPrefix(c.Name, "__Host-") || !c.Secure {
			t.Errorf("the portal's cookie %s through nginx: Secure %v; want Secure and __Host-", c.Name, c.Secure)
		}
	}
	if len(cookies) == 0 {
		t.Error("no cookie after signing in through nginx")
	}

	// The portal believes nginx's X-Forwarded-For, which names the client
	// (here from 127.0.0.2), and nothing a client sent of its own.
	from2 := ca.client("127.0.0.1", httpsPort, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)})
	req, _ = http.NewRequest(http.MethodPost, base+"/login", strings.NewReader(url.Values{"email": {"admin@example.com"}, "password": {"wrong-password"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", "203.0.113.7")
	res, err = from2.Do(req)
	must(t, err)
	res.Body.Close()
	_, err = page.Goto(base + "/audit?action=session.signIn")
	must(t, err)
	sources, err := page.Locator(`[data-testid="audit-row"] td code`).AllTextContents()
	must(t, err)
	if !containsString(sources, "127.0.0.2") || containsString(sources, "203.0.113.7") {
		t.Errorf("the sign-ins' sources through nginx: %q; want the client's 127.0.0.2 and never the 203.0.113.7 it claimed", sources)
	}

	// An instance, then Jupyter on its own origin, through nginx.
	_, err = page.Goto(base + "/instances")
	must(t, err)
	body := page.Locator("body")
	must(t, button(body, "New").Click())
	must(t, page.GetByLabel("Compute name").Fill("lab-box"))
	must(t, expect.Locator(page.GetByTestId("name-message")).ToHaveText("This name is available."))
	must(t, button(body, "Create").Click())
	must(t, page.WaitForURL(base+"/instances"))
	row := page.Locator(`tr[data-name="lab-box"]`)
	must(t, expect.Locator(row.GetByTestId("state")).ToHaveText("Running", playwright.LocatorAssertionsToHaveTextOptions{Timeout: playwright.Float(45000)}))
	jupyter, err := bctx.ExpectPage(func() error {
		return row.GetByRole("link", playwright.LocatorGetByRoleOptions{Name: "Jupyter", Exact: playwright.Bool(true)}).Click()
	})
	must(t, err)
	jupyter.On("pageerror", func(err error) { t.Errorf("script error in Jupyter: %v", err) })
	must(t, jupyter.WaitForURL("**/tree**", playwright.PageWaitForURLOptions{Timeout: playwright.Float(60000)}))
	origin := "https://lab-box--jupyter.apps.localhost:" + httpsPort
	if !strings.HasPrefix(jupyter.URL(), origin+"/") {
		t.Fatalf("Jupyter opened at %s, want %s", jupyter.URL(), origin)
	}
	appCookies, err := bctx.Cookies(origin)
	must(t, err)
	for _, c := range appCookies {
		if strings.HasPrefix(strings.ToLower(strings.TrimPrefix(c.Name, "__Host-")), "instancehub") && (!strings.HasPrefix(c.Name, "__Host-") || !c.Secure) {
			t.Errorf("the gateway's cookie %s through nginx: Secure %v; want Secure and __Host-", c.Name, c.Secure)
		}
	}
	created, err := jupyter.Evaluate(`fetch("/api/contents/proxy.ipynb", {method: "PUT", headers: {"Content-Type": "application/json"},
		body: JSON.stringify({type: "notebook", content: {cells: [], metadata: {kernelspec: {name: "python3", display_name: "Python 3", language: "python"}}, nbformat: 4, nbformat_minor: 5}})})
		.then(r => r.status)`)
	must(t, err)
	if created != 201 {
		t.Fatalf("creating a notebook through nginx answered %v, want 201", created)
	}
	_, err = jupyter.Goto(origin + "/notebooks/proxy.ipynb")
	must(t, err)
	must(t, expect.Locator(jupyter.Locator("#kernel_indicator_icon.kernel_idle_icon")).ToBeAttached(playwright.LocatorAssertionsToBeAttachedOptions{Timeout: playwright.Float(60000)}))
	must(t, jupyter.Locator(".cell .CodeMirror").First().Click())
	must(t, jupyter.Keyboard().Type("print(6*7)"))
	must(t, jupyter.Keyboard().Press("Shift+Enter"))
	must(t, expect.Locator(jupyter.Locator(".output_subarea").First()).ToHaveText("42", playwright.LocatorAssertionsToHaveTextOptions{Timeout: playwright.Float(30000)}))

	// The kernel's channels went through nginx as a WebSocket, which nginx
	// logs once it is closed.
	must(t, jupyter.Close())
	upgraded := regexp.MustCompile(`(?m)^101 GET lab-box--jupyter\.apps\.localhost:` + httpsPort + ` /api/kernels/[0-9a-f-]+/channels\?`)
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		log, err := os.ReadFile(filepath.Join(dir, "access.log"))
		must(t, err)
		if upgraded.Match(log) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx logged no WebSocket of the kernel's channels:\n%s", log)
		}
	}
}

// nginxPath is Debian's nginx, which `make test` installs.
func nginxPath(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("nginx"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/nginx"); err == nil {
		return "/usr/sbin/nginx"
	}
	t.Fatal("nginx is not installed: run `make test`, which installs Debian's nginx")
	return ""
}

// freePort returns a port of the loopback address free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	defer ln.Close()
	return fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
}

type replacement struct{ from, to string }

// renderDeployFile reads a file of docs/deploy and makes each replacement,
// failing when the file no longer holds what a replacement names: the test
// runs the very file an operator copies.
func renderDeployFile(t *testing.T, name string, replacements []replacement) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "docs", "deploy", name))
	must(t, err)
	s := string(b)
	for _, r := range replacements {
		if !strings.Contains(s, r.from) {
			t.Fatalf("docs/deploy/%s no longer holds %q, which this test replaces", name, r.from)
		}
		s = strings.ReplaceAll(s, r.from, r.to)
	}
	return s
}

// startNginx runs nginx in the foreground on site, with every file it
// writes in dir and an access log of each request's status, method, host
// and address, until the test ends.
func startNginx(t *testing.T, nginx, dir, site, port string) {
	t.Helper()
	must(t, os.WriteFile(filepath.Join(dir, "instancehub.conf"), []byte(site), 0o600))
	workers := ""
	if os.Geteuid() == 0 {
		// Workers would run as nobody, who may not enter dir.
		u, err := user.Current()
		must(t, err)
		workers = "user " + u.Username + ";"
	}
	main := fmt.Sprintf(`%s
pid %[2]s/nginx.pid;
error_log %[2]s/error.log warn;
events {}
http {
    client_body_temp_path %[2]s/body;
    proxy_temp_path %[2]s/proxy;
    fastcgi_temp_path %[2]s/fastcgi;
    uwsgi_temp_path %[2]s/uwsgi;
    scgi_temp_path %[2]s/scgi;
    log_format status '$status $request_method $http_host $request_uri';
    access_log %[2]s/access.log status;
    include %[2]s/instancehub.conf;
}
`, workers, dir)
	conf := filepath.Join(dir, "nginx.conf")
	must(t, os.WriteFile(conf, []byte(main), 0o600))
	cmd := exec.Command(nginx, "-p", dir+"/", "-c", conf, "-g", "daemon off;")
	out := &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	must(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGQUIT) // nginx's graceful stop
		_ = cmd.Wait()
		if t.Failed() {
			errors, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Logf("nginx:\n%s%s", out, errors)
		}
	})
	for deadline := time.Now().Add(10 * time.Second); ; {
		conn, err := net.Dial("tcp", "127.0.0.1:"+port)
		if err == nil {
			conn.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx does not listen on %s: %v\n%s", port, err, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// launchTrusting starts a Chromium of its own for this test that trusts the
// test's CA, by its key, and nothing else more than the shared browser does.
func launchTrusting(t *testing.T, ca *testCA) playwright.Browser {
	t.Helper()
	b, err := browser.BrowserType().Launch(playwright.BrowserTypeLaunchOptions{
		ExecutablePath: playwright.String(chromiumPath()),
		Headless:       playwright.Bool(true),
		Args: []string{"--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
			"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
			"--ignore-certificate-errors-spki-list=" + ca.spki},
	})
	if err != nil {
		t.Fatalf("launch Chromium at %s: %v", chromiumPath(), err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// testCA is a certificate authority made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	// spki is the base64 SHA-256 digest of the CA's public key, as
	// Chromium's --ignore-certificate-errors-spki-list takes it.
	spki string
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "instancehub e2e test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	must(t, err)
	cert, err := x509.ParseCertificate(der)
	must(t, err)
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return &testCA{cert: cert, key: key, spki: base64.StdEncoding.EncodeToString(sum[:])}
}

// issue writes dir/name.fullchain.pem (the certificate for dnsName, then
// the CA's) and dir/name.key.
func (ca *testCA) issue(t *testing.T, dir, name, dnsName string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	must(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: dnsName}, DNSNames: []string{dnsName},
		NotBefore: ca.cert.NotBefore, NotAfter: ca.cert.NotAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	must(t, err)
	chain := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	chain = append(chain, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.cert.Raw})...)
	must(t, os.WriteFile(filepath.Join(dir, name+".fullchain.pem"), chain, 0o600))
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	must(t, err)
	must(t, os.WriteFile(filepath.Join(dir, name+".key"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600))
}

// client is an HTTP client that trusts the CA alone and reaches every name
// at host:port, from local when given.
func (ca *testCA) client(host, port string, local *net.TCPAddr) *http.Client {
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	dialer := &net.Dialer{Timeout: 5 * time.Second, LocalAddr: local}
	return &http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, net.JoinHostPort(host, port))
		},
	}}
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if strings.TrimSpace(v) == s {
			return true
		}
	}
	return false
}
