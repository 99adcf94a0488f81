// Package apps is the applications gateway: it serves each application of
// each instance (Jupyter, JupyterLab, RStudio, Terminal) on its own origin,
// <instance>--<app>.<domain>, through a reverse proxy that lets only the
// instance's owner in, on every request and every WebSocket upgrade.
//
// The portal, on its own origin, gives the browser a short-lived single-use
// ticket (OpenURL); the application's origin exchanges it for its own cookie,
// bound to the portal session, and only in the browser that asked for it
// (state.go). Nothing of the portal reaches the upstream:
// its cookies, the client's Authorization and forwarding headers are
// removed, and the instance's own secret is added in the Authorization
// header, which the applications' sign-in on the VM checks (Jupyter's
// identity provider, the proxy before RStudio); Jupyter's own token stays
// empty, since Jupyter writes its token into its pages.
package apps

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"time"

	"github.com/instancehub/instancehub"
)

// Service is what the gateway asks of the portal's service: who a session
// belongs to, and whether they may open an application now.
type Service interface {
	// UserBySession: EUNAUTHORIZED when the session has ended.
	UserBySession(ctx context.Context, token string) (*instancehub.User, error)
	// OpenApplication, for the user in ctx: EFORBIDDEN for anyone but the
	// owner, ECONFLICT when the instance is not running, ENOTFOUND.
	OpenApplication(ctx context.Context, name, slug string) (*instancehub.Instance, instancehub.Application, error)
	// ApplicationOpened audits that the user in ctx opened the application.
	ApplicationOpened(ctx context.Context, inst *instancehub.Instance, app instancehub.Application)
}

// Config configures a Gateway. Service, Upstreams, Key and PortalOpen are
// required.
type Config struct {
	// Domain under which applications are served, with an optional port:
	// "apps.example.com" serves <instance>--<app>.apps.example.com and needs
	// a wildcard DNS record and certificate for *.apps.example.com. The
	// default, "apps.localhost", needs no setup: browsers resolve every
	// *.localhost name to the loopback address.
	Domain string
	// Scheme is "https" (cookies then are Secure and __Host-) or "http".
	Scheme    string
	Key       []byte // at least 32 secret bytes; tickets and cookies are sealed with keys derived from it
	Service   Service
	Upstreams instancehub.ApplicationUpstreams
	// Refuse writes the page of a refused request in the portal's look;
	// the default is a plain page.
	Refuse func(w http.ResponseWriter, r *http.Request, status int, message string)
	// Activity, if set, is told of each instance's user activity, at most
	// once per ActivityEvery (default 5 s). See countsAsActivity. It is
	// called on the proxy's path: it must return at once (note the time in
	// memory, write it down elsewhere).
	Activity      func(name string, at time.Time)
	ActivityEvery time.Duration
	// Running, if set, tells whether the applications of instance name run
	// now, so that Probe never starts a server just to ask it (the offline
	// emulator starts Jupyter on first open); unset, they always do.
	Running func(name string) bool
	// RecheckEvery is how often open connections are authorized again
	// (default 5 s); Revoke rechecks one instance's at once.
	RecheckEvery time.Duration
	// Landing is the path each application opens at after sign-in, by
	// slug ("/" when missing): Jupyter's terminal is /terminals/1.
	Landing map[string]string
	// PortalOpen is the portal's address that opens an application and
	// issues its ticket for the browser holding state (OpenURL's state).
	// The application's origin sends a browser there to sign in: from a
	// link on the portal, and on a page load without a sign-in, so that
	// bookmarks work.
	PortalOpen func(name, slug, state string) string
	// Spent records the tickets redeemed: the database, for portals that
	// share one; by default, this gateway's memory.
	Spent TicketLedger
	// Dial, if set, connects to the upstreams in place of a TCP dialer:
	// the offline emulator's sandboxed Jupyter servers listen on Unix
	// sockets (localapps.Servers.DialContext).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Metrics, if set, is told what the gateway carries.
	Metrics Metrics
	Logger  *slog.Logger
	Now     func() time.Time
}

// Metrics counts what the gateway carries, for an operator's dashboards.
// It is told on the proxy's path: its methods must return at once.
type Metrics interface {
	// Proxying: a request to an application began (delta 1) or ended
	// (-1); websocket for a WebSocket, which lasts until either side
	// closes it.
	Proxying(websocket bool, delta int)
	// SessionsOpen: n sign-ins to an application (a browser's session with
	// one application of one instance) have a request open now.
	SessionsOpen(n int)
	// Proxied: n bytes went from the browser to the application
	// (toApplication), or back.
	Proxied(toApplication bool, n int)
}

// Gateway serves applications. It is an http.Handler for the hosts of the
// applications' domain; Wrap puts it in front of the portal.
type Gateway struct {
	cfg     Config
	origins origins
	tickets sealer
	cookies sealer
	states  sealer
	spent   TicketLedger
	csrf    *http.CrossOriginProtection
	proxy   *httputil.ReverseProxy
	live    *liveConns
	active  *activity
	probes  *http.Client // Probe's, with a timeout of its own
	stop    context.CancelFunc
}

// New returns a gateway; Close stops its background recheck.
func New(cfg Config) (*Gateway, error) {
	if cfg.Domain == "" {
		cfg.Domain = "apps.localhost"
	}
	if cfg.Scheme == "" {
		cfg.Scheme = "http"
	}
	if len(cfg.Key) < 32 {
		return nil, instancehub.Errorf(instancehub.EINVALID, "The applications gateway needs a key of at least 32 bytes.")
	}
	if cfg.Service == nil || cfg.Upstreams == nil || cfg.PortalOpen == nil {
		return nil, instancehub.Errorf(instancehub.EINVALID, "The applications gateway needs the service, the upstreams and the portal's address.")
	}
	o, err := newOrigins(cfg.Scheme, cfg.Domain)
	if err != nil {
		return nil, err
	}
	cfg = withDefaults(cfg)
	g := &Gateway{
		cfg: cfg, origins: o,
		tickets: newSealer(cfg.Key, "ticket"), cookies: newSealer(cfg.Key, "cookie"), states: newSealer(cfg.Key, "state"),
		spent: cfg.Spent, csrf: http.NewCrossOriginProtection(),
		live: newLiveConns(cfg.Metrics), active: newActivity(cfg.Activity, cfg.ActivityEvery),
		probes: &http.Client{Transport: newTransport(cfg.Dial), Timeout: 10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
	}
	g.proxy = g.newProxy()
	ctx, stop := context.WithCancel(context.Background())
	g.stop = stop
	go g.recheckEvery(ctx, cfg.RecheckEvery)
	return g, nil
}

func withDefaults(cfg Config) Config {
	if cfg.Refuse == nil {
		cfg.Refuse = plainRefusal
	}
	if cfg.ActivityEvery <= 0 {
		cfg.ActivityEvery = 5 * time.Second
	}
	if cfg.RecheckEvery <= 0 {
		cfg.RecheckEvery = 5 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Metrics == nil {
		cfg.Metrics = noMetrics{}
	}
	if cfg.Spent == nil {
		cfg.Spent = newSpentTickets(100_000)
	}
	return cfg
}

// Close stops rechecking open connections; it does not close them.
func (g *Gateway) Close() { g.stop() }

// Owns reports whether host is one of the applications' hosts, well formed
// or not: the portal must never answer on them. Spelled with a trailing
// dot, as a fully qualified name that reaches the same server, they are
// still the applications', and the gateway refuses them: an origin is its
// exact name.
func (g *Gateway) Owns(host string) bool {
	h, _, _ := cutPort(host)
	h = strings.TrimRight(h, ".")
	return h == g.origins.domain || strings.HasSuffix(h, "."+g.origins.domain)
}

// Wrap sends the requests for the applications' hosts to the gateway and
// every other request to portal.
func (g *Gateway) Wrap(portal http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if g.Owns(r.Host) {
			g.ServeHTTP(w, r)
			return
		}
		portal.ServeHTTP(w, r)
	})
}

// ServeHTTP serves one request to an application's origin.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name, slug, ok := g.origins.parse(r.Host)
	if !ok {
		g.refuse(w, r, instancehub.Errorf(instancehub.ENOTFOUND, "There is no application at this address."))
		return
	}
	switch r.URL.Path {
	case startPath:
		g.start(w, r, name, slug, "")
		return
	case ticketPath:
		g.redeem(w, r, name, slug)
		return
	}
	if err := g.admit(r); err != nil {
		g.refuse(w, r, err)
		return
	}
	c, err := g.readCookie(r, name, slug)
	if err != nil && r.Method == http.MethodGet && countsAsActivity(r) {
		g.start(w, r, name, slug, r.URL.RequestURI())
		return
	}
	if err != nil {
		g.refuse(w, r, err)
		return
	}
	g.serveProxied(w, r, c, name, slug)
}

// refuse answers with the refusal page, its status from the error's code.
func (g *Gateway) refuse(w http.ResponseWriter, r *http.Request, err error) {
	status := statusOf(err)
	if status == http.StatusInternalServerError {
		g.cfg.Logger.ErrorContext(r.Context(), "application request", "host", r.Host, "path", r.URL.Path, "err", err)
	}
	g.cfg.Refuse(w, r, status, instancehub.ErrorMessage(err))
}

func statusOf(err error) int {
	switch instancehub.ErrorCode(err) {
	case instancehub.EINVALID:
		return http.StatusBadRequest
	case instancehub.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case instancehub.EFORBIDDEN:
		return http.StatusForbidden
	case instancehub.ENOTFOUND:
		return http.StatusNotFound
	case instancehub.ECONFLICT:
		return http.StatusConflict
	case instancehub.EUNAVAILABLE, instancehub.ECLOUD, instancehub.ETHROTTLED, instancehub.EQUOTA:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// authorize asks the service, as the session's user, whether the
// application may be opened now.
func (g *Gateway) authorize(ctx context.Context, session, name, slug string) (*instancehub.User, *instancehub.Instance, instancehub.Application, error) {
	user, err := g.cfg.Service.UserBySession(ctx, session)
	if err != nil {
		return nil, nil, instancehub.Application{}, err
	}
	inst, app, err := g.cfg.Service.OpenApplication(instancehub.NewContextWithUser(ctx, user), name, slug)
	return user, inst, app, err
}

// isEnded tells a refusal from a failure to ask: a connection is closed on
// the first, kept on the second.
func isEnded(err error) bool {
	return err != nil && instancehub.ErrorCode(err) != instancehub.EINTERNAL && !errors.Is(err, context.Canceled)
}

var _ instancehub.ApplicationGateway = (*Gateway)(nil)

// appURL is the address of path on the application's origin.
func (g *Gateway) appURL(name, slug, path string, query url.Values) string {
	u := url.URL{Scheme: g.origins.scheme, Host: g.origins.host(name, slug), Path: path}
	if query != nil {
		u.RawQuery = query.Encode()
	}
	return u.String()
}
