package apps

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/internal/testportal"
)

// seen is what a test upstream tells of the request it received.
type seen struct {
	Instance string      `json:"instance"`
	Path     string      `json:"path"`
	Header   http.Header `json:"header"`
}

// fakeUpstreams serves, per instance, an httptest upstream that answers
// with what it received, echoes WebSocket messages on /ws, and counts hits.
type fakeUpstreams struct {
	mu      sync.Mutex
	servers map[string]*httptest.Server
	hits    map[string]int
	// sockets, when set, also serves each upstream on a Unix socket in
	// that folder, and Upstream names it (<name>.sandbox.invalid), as the
	// offline emulator's sandboxed Jupyter servers are reached.
	sockets string
}

func (f *fakeUpstreams) Upstream(_ context.Context, inst *instancehub.Instance, _ instancehub.Application) (*url.URL, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	srv, ok := f.servers[strings.ToLower(inst.Name)]
	if !ok {
		return nil, "", instancehub.Errorf(instancehub.EUNAVAILABLE, "No Jupyter on %s.", inst.Name)
	}
	u, _ := url.Parse(srv.URL)
	if f.sockets != "" {
		u.Host = strings.ToLower(inst.Name) + ".sandbox.invalid"
	}
	return u, "secret-" + inst.Name, nil
}

// socket is the path of name's Unix socket.
func (f *fakeUpstreams) socket(name string) string { return filepath.Join(f.sockets, name+".sock") }

// dial is the gateway's dialer: a sandbox's name reaches its socket.
func (f *fakeUpstreams) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, _ := net.SplitHostPort(addr)
	if name, ok := strings.CutSuffix(host, ".sandbox.invalid"); ok && f.sockets != "" {
		return (&net.Dialer{}).DialContext(ctx, "unix", f.socket(name))
	}
	return (&net.Dialer{}).DialContext(ctx, network, addr)
}

func (f *fakeUpstreams) start(t testing.TB, name string) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.hits[name]++
		f.mu.Unlock()
		switch r.URL.Path {
		case "/ws":
			echo(w, r)
		case "/upload":
			n, _ := io.Copy(io.Discard, r.Body)
			fmt.Fprint(w, n)
		case "/download":
			n, _ := strconv.ParseInt(r.URL.Query().Get("n"), 10, 64)
			w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
			_, _ = io.Copy(w, io.LimitReader(pattern{}, n))
		case "/api/kernels", "/api/terminals":
			if r.Header.Get("Authorization") != "token secret-"+name {
				http.Error(w, "forbidden", http.StatusForbidden)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			if r.URL.Path == "/api/kernels" {
				fmt.Fprint(w, `[{"id":"k1","execution_state":"busy","connections":1,"last_activity":"2026-11-30T09:05:00.123456Z"},
					{"id":"k2","execution_state":"idle","connections":0,"last_activity":"2026-11-30T08:00:00Z"}]`)
			} else {
				fmt.Fprint(w, `[{"name":"1","last_activity":"2026-11-30T09:07:00Z"}]`)
			}
		case "/cookies":
			http.SetCookie(w, &http.Cookie{Name: "_xsrf", Value: "app", Path: "/"})
			http.SetCookie(w, &http.Cookie{Name: cookieBase, Value: "shadow", Path: "/"})
			http.SetCookie(w, &http.Cookie{Name: "wide", Value: "x", Domain: "apps.localhost", Path: "/"})
			http.Redirect(w, r, "http://"+r.Host+"/tree", http.StatusFound)
		default:
			// As Jupyter 6 answers a request with its token: any origin may
			// read it, and that origin is named.
			if r.Header.Get("Authorization") == "token secret-"+name {
				w.Header().Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
				w.Header().Set("Access-Control-Allow-Credentials", "true")
				if r.Method == http.MethodOptions {
					w.Header().Set("Access-Control-Allow-Methods", "GET, PUT, POST, PATCH, DELETE, OPTIONS")
					w.Header().Set("access-control-allow-headers", "accept, content-type, authorization, x-xsrftoken")
					w.Header().Set("Access-Control-Max-Age", "600")
					w.WriteHeader(http.StatusNoContent)
					return
				}
			}
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(seen{Instance: name, Path: r.URL.Path, Header: r.Header})
		}
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	if f.sockets != "" {
		l, err := net.Listen("unix", f.socket(name))
		if err != nil {
			t.Fatal(err)
		}
		unix := &http.Server{Handler: h}
		go func() { _ = unix.Serve(l) }()
		t.Cleanup(func() { unix.Close() })
	}
	f.mu.Lock()
	f.servers[name] = srv
	f.mu.Unlock()
}

func (f *fakeUpstreams) hitsOf(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hits[name]
}

// pattern is an endless body that costs no memory.
type pattern struct{}

func (pattern) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(i)
	}
	return len(p), nil
}

// echo is a WebSocket upstream that checks Origin against its own Host, as
// Jupyter does, and sends back every message.
func echo(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer c.CloseNow()
	c.SetReadLimit(-1)
	ctx := r.Context()
	for {
		typ, msg, err := c.Read(ctx)
		if err != nil {
			return
		}
		if c.Write(ctx, typ, msg) != nil {
			return
		}
	}
}

// fixture is a portal with two running instances, adas-box (Ada's) and
// bobs-box (Bob's; Bob is a workspace Owner too), behind a gateway.
type fixture struct {
	p        *testportal.Portal
	g        *Gateway
	srv      *httptest.Server
	up       *fakeUpstreams
	bob      *instancehub.User
	adaToken string
	bobToken string
	port     string
	clock    *clock
	activity chan string
}

type clock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.off += d
}

func newFixture(t testing.TB, recheck time.Duration) *fixture {
	t.Helper()
	return newFixtureOver(t, recheck, false)
}

// newFixtureOver is newFixture with upstreams on Unix sockets when unix is
// set.
func newFixtureOver(t testing.TB, recheck time.Duration, unix bool) *fixture {
	t.Helper()
	p := testportal.Open(t, t.TempDir(), 0)
	f := &fixture{p: p, up: &fakeUpstreams{servers: map[string]*httptest.Server{}, hits: map[string]int{}},
		clock: &clock{}, activity: make(chan string, 100)}
	if unix {
		// A socket's path has room for 107 bytes: a short folder.
		dir, err := os.MkdirTemp("", "sock")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		f.up.sockets = dir
	}
	f.bob = p.EnsureUser(t, "bob@example.com", "Bob", instancehub.RoleOwner)
	for name, ctx := range map[string]context.Context{"adas-box": p.Ctx, "bobs-box": p.As(f.bob)} {
		if _, err := p.Service.CreateInstance(ctx, testportal.Request(name)); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"adas-box", "bobs-box"} {
		p.WaitState(t, name, instancehub.StateRunning)
		f.up.start(t, name)
	}
	f.adaToken = f.signIn(t, "ada@example.com")
	f.bobToken = f.signIn(t, "bob@example.com")

	// The gateway's domain names the test server's port, known once it
	// listens; the handler is set after.
	var handler http.Handler = http.NotFoundHandler()
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(f.srv.Close)
	_, f.port, _ = net.SplitHostPort(f.srv.Listener.Addr().String())
	g, err := New(Config{
		Domain: "apps.localhost:" + f.port, Key: []byte(strings.Repeat("k", 32)),
		Service: p.Service, Upstreams: f.up, RecheckEvery: recheck, Now: f.clock.now, Spent: p.DB, Dial: f.up.dial,
		Activity: func(name string, _ time.Time) {
			select {
			case f.activity <- name:
			default: // a benchmark does not read them
			}
		},
		ActivityEvery: time.Nanosecond,
		Landing:       map[string]string{"terminal": "/terminals/1"},
		PortalOpen:    func(name, slug, state string) string { return f.portalOpen(name, slug, state) },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Close)
	f.g = g
	handler = g.Wrap(http.HandlerFunc(f.portal))
	return f
}

// portalOpen is the portal's address that opens an application, on the
// test server under the portal's own name.
func (f *fixture) portalOpen(name, slug, state string) string {
	u := "http://localhost:" + f.port + "/instances/" + name + "/apps/" + slug + "/"
	if state != "" {
		u += "?" + url.Values{"state": {state}}.Encode()
	}
	return u
}

// portal is the portal's side of the hand-off, as web's openApplication:
// the signed-in user of the session cookie asks the gateway where their
// browser goes next. Any other address is the portal's, a teapot.
func (f *fixture) portal(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/instances/")
	parts := strings.Split(rest, "/")
	if !ok || len(parts) != 4 || parts[1] != "apps" || parts[3] != "" {
		http.Error(w, "the portal", http.StatusTeapot)
		return
	}
	ck, err := r.Cookie("instancehub_session")
	if err != nil {
		http.Error(w, "sign in", http.StatusUnauthorized)
		return
	}
	user, err := f.p.Service.UserBySession(r.Context(), ck.Value)
	if err == nil {
		var u string
		u, err = f.g.OpenURL(instancehub.NewContextWithUser(r.Context(), user), ck.Value, parts[0], parts[2], r.URL.Query().Get("state"))
		if err == nil {
			http.Redirect(w, r, u, http.StatusSeeOther)
			return
		}
	}
	http.Error(w, instancehub.ErrorMessage(err), statusOf(err))
}

func (f *fixture) signIn(t testing.TB, email string) string {
	t.Helper()
	in, err := f.p.Service.SignIn(context.Background(), email, testportal.Password, "")
	if err != nil {
		t.Fatal(err)
	}
	return in.Token
}

// client is a browser: every host name reaches the test server, and it
// keeps cookies per host.
func (f *fixture) client() *http.Client {
	jar, _ := cookiejar.New(nil)
	addr := f.srv.Listener.Addr().String()
	return &http.Client{
		Jar: jar,
		Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		}},
	}
}

// host is an application's host on the test server.
func (f *fixture) host(name, slug string) string {
	return name + "--" + slug + ".apps.localhost:" + f.port
}

// browser is a browser signed in to the portal with the session token.
func (f *fixture) browser(token string) *http.Client {
	c := f.client()
	c.Jar.SetCookies(&url.URL{Scheme: "http", Host: "localhost:" + f.port},
		[]*http.Cookie{{Name: "instancehub_session", Value: token, Path: "/"}})
	return c
}

// open signs a new browser, signed in to the portal with token, in to an
// application as its owner would: a click on the portal's link. It
// returns the browser with the page it landed on.
func (f *fixture) open(t testing.TB, token, name, slug string) (*http.Client, *http.Response) {
	t.Helper()
	c := f.browser(token)
	res, err := c.Get(f.portalOpen(name, slug, ""))
	if err != nil {
		t.Fatal(err)
	}
	return c, res
}

// ticket follows the portal's link in browser c up to the ticket, which
// it returns unredeemed: the browser then holds the state it is for.
func (f *fixture) ticket(t testing.TB, c *http.Client, name, slug string) string {
	t.Helper()
	stop := *c
	stop.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
		if req.URL.Path == ticketPath {
			return http.ErrUseLastResponse
		}
		return nil
	}
	res, err := stop.Get(f.portalOpen(name, slug, ""))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	loc, _ := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != http.StatusSeeOther || loc == nil || loc.Path != ticketPath {
		t.Fatalf("open %s/%s: %d to %q, want a ticket", name, slug, res.StatusCode, res.Header.Get("Location"))
	}
	return loc.String()
}

// state starts a sign-in on an application's origin in browser c, which
// keeps the state cookie, and returns the state's digest it sends to the
// portal.
func (f *fixture) state(t testing.TB, c *http.Client, name, slug string) string {
	t.Helper()
	stop := *c
	stop.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := stop.Get("http://" + f.host(name, slug) + startPath)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	loc, _ := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != http.StatusSeeOther || loc == nil || !validDigest(loc.Query().Get("state")) {
		t.Fatalf("start on %s/%s: %d to %q, want the portal with a state", name, slug, res.StatusCode, res.Header.Get("Location"))
	}
	return loc.Query().Get("state")
}

func decodeSeen(t testing.TB, res *http.Response) seen {
	t.Helper()
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200", res.StatusCode)
	}
	var s seen
	if err := json.NewDecoder(res.Body).Decode(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

// dialWS opens a WebSocket through the gateway with that client's cookies.
func (f *fixture) dialWS(ctx context.Context, c *http.Client, host, origin string) (*websocket.Conn, *http.Response, error) {
	h := http.Header{}
	if origin != "" {
		h.Set("Origin", origin)
	}
	return websocket.Dial(ctx, "ws://"+host+"/ws", &websocket.DialOptions{HTTPClient: c, HTTPHeader: h})
}
