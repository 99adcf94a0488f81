// Package web is the portal's HTTP side: an echo server whose handlers parse
// a request, call the service and render a templ component. Every route is
// listed in routes.go.
package web

import (
	"context"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/service"
	"github.com/instancehub/instancehub/views"
	"github.com/klauspost/compress/gzhttp"
	"github.com/klauspost/compress/gzip"
	"github.com/labstack/echo/v5"
)

// Config is how the server is set up.
type Config struct {
	// Workspace is the name shown in the top bar.
	Workspace string
	// SealKey is the 32-byte key of the sealed cookies (a single sign-on
	// under way, a message for the next page), shared by every portal on
	// the database so that any of them opens what another sealed; a fresh
	// random one when nil.
	SealKey []byte
	// SecureCookies marks cookies Secure even when the portal itself does
	// not terminate TLS (behind a proxy that does).
	SecureCookies bool
	// Static holds the stylesheet, script and htmx.
	Static fs.FS
	// TrustedProxies are the networks (CIDR) of proxies whose
	// X-Forwarded-For is believed; without any, a request's address is its
	// connection's.
	TrustedProxies []*net.IPNet
	// LocalAccounts allows signing in with a password.
	LocalAccounts bool
	// Identity is the single sign-on provider, if any.
	Identity instancehub.IdentityProvider
	// Applications serves the instances' applications, each on an origin
	// of its own; requests for its hosts go to it. Nil leaves application
	// links on a page that says they are not available.
	Applications Applications
	// Hosts are the portal's own names, host and port as browsers send
	// them ("portal.example.com", "127.0.0.1:8080"), "*." in front for
	// every name under one ("*.localhost:8080"); the portal answers on no
	// other (onlyOwnHosts). Empty: on any name.
	Hosts []string
	// Metrics, if set, is told of every request the portal answers.
	Metrics Metrics
	// StreamHeartbeat is how often an idle stream of changes (/events)
	// sends a comment; 15 s if 0.
	StreamHeartbeat time.Duration
	Logger          *slog.Logger
	Now             func() time.Time
}

// Metrics counts the portal's requests for an operator's dashboards. Its
// labels are bounded whatever clients send: route is the pattern of the
// route that answered ("/instances/:name"), never the path asked, or
// UnmatchedRoute; method is one of the methods routes take, or "other".
type Metrics interface {
	// Request: a request was answered with status (0: the client left
	// before any answer) after took.
	Request(route, method string, status int, took time.Duration)
}

// UnmatchedRoute is the route of requests no route answered (404, 405).
const UnmatchedRoute = "unmatched"

// Applications is the applications gateway as the portal uses it: it
// opens an application for its owner, drops connections no longer allowed,
// and serves the hosts of the applications' domain.
type Applications interface {
	instancehub.ApplicationGateway
	// Wrap sends the requests for the applications' hosts to the gateway
	// and every other request to portal.
	Wrap(portal http.Handler) http.Handler
}

// Server serves the portal.
type Server struct {
	cfg     Config
	echo    *echo.Echo
	handler http.Handler  // echo behind compression
	pages   renderedPages // the list's pages as last rendered (pagecache.go)
	rows    *views.Rows   // the list's rows as last rendered
	service *service.Service

	// computes are the API's computes as last encoded (api_fragments.go).
	computes computeFragments

	// sessions, changes and readiness are the service, as the door, the
	// page cache and /readyz ask it.
	sessions  Sessions
	changes   changeCounter
	readiness readiness
	// httpServer serves (Serve) and stops (Shutdown): made once, at the
	// first call of either, in whichever goroutine; a Shutdown before
	// Serve makes Serve return at once.
	httpServer func() *http.Server
	// aead seals the portal's short-lived cookies (seal.go).
	aead cipher.AEAD
	// staticVersion names the version of the static files in their URLs.
	staticVersion string
	// patterns are the routes' patterns, methods their methods: the only
	// labels Metrics is given.
	patterns, methods map[string]bool
	// requests counts the requests begun (Requests).
	requests atomic.Uint64
}

// New returns a server over the service.
func New(cfg Config, svc *service.Service) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Server{cfg: cfg, service: svc, sessions: svc, changes: svc, readiness: svc, aead: newAEAD(cfg.SealKey),
		rows: views.NewRows(maxKeptRows)}
	s.httpServer = sync.OnceValue(s.newHTTP)
	s.echo = echo.NewWithConfig(echo.Config{
		Logger: cfg.Logger,
		// HEAD is answered as GET without the body, on every GET route.
		Router: echo.NewRouter(echo.RouterConfig{AutoHandleHEAD: true}),
	})
	// The address of a request is the connection's unless it comes through
	// a proxy the configuration trusts (echo's advisories GO-2026-6872/6875).
	s.echo.IPExtractor = echo.ExtractIPDirect()
	if len(cfg.TrustedProxies) > 0 {
		trust := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
		for _, n := range cfg.TrustedProxies {
			trust = append(trust, echo.TrustIPRange(n))
		}
		s.echo.IPExtractor = echo.ExtractIPFromXFFHeader(trust...)
	}
	s.echo.HTTPErrorHandler = s.handleError
	s.staticVersion = staticVersion(cfg.Static)
	s.routes()
	s.patterns, s.methods = map[string]bool{}, map[string]bool{}
	for _, r := range s.echo.Router().Routes() {
		if r.Method != echo.RouteNotFound { // its pattern matches any path
			s.patterns[r.Path], s.methods[r.Method] = true, true
		}
	}
	s.methods[http.MethodHead] = true // every GET route answers HEAD
	s.handler = compress(s.echo)
	return s
}

// maxKeptRows bounds the list's rows kept as rendered (about 1.3 KB each):
// 1,000 instances as seen by three kinds of viewer.
const maxKeptRows = 4096

// compress sends the portal's pages, fragments, scripts, styles and JSON
// gzipped to browsers that accept it (a list page of 60 KB travels as
// about 8), through klauspost/compress's gzhttp: it parses Accept-Encoding
// with its q-values, skips small answers and compressed types, and keeps
// flushing streams (the audit export). The compressed size is padded by a
// content-dependent jitter, so that a page's length does not tell an
// attacker who reflects a guess in it (BREACH) whether the guess matched
// the session's CSRF token. The applications' answers are not compressed
// here: the gateway passes them as their servers send them.
func compress(h http.Handler) http.Handler { return compressor(h) }

// compressor is compress's wrapper, made once: the page cache encodes the
// pages it keeps with it too (pagecache.go), so that a kept page travels
// exactly as compress would send it.
var compressor = newCompressor(gzip.DefaultCompression)

// fastCompressor is compress at gzip's fastest level, for the page cache's
// renders: a list page of 66 KB takes half the time to compress (50 us
// against 90) and is 8 % larger (7.0 KB against 6.5). A kept page asked
// again is compressed by compressor (pagecache.go).
var fastCompressor = newCompressor(gzip.BestSpeed)

// statelessCompressor is fastCompressor for an answer of at most
// maxStatelessBody bytes (a details view, the quota page), written in one
// piece: compress's stateless deflate makes it one block, matched against
// itself whole, with tables small enough to stay in the processor's caches
// while 16 requests render at once, where the fastest level's state is
// about 300 KB a writer. On the quota page (15.6 KB) it took 19 µs of CPU
// against 55, beside other requests' work, for 3,287 bytes against 3,260.
// Past the block, it would match each 32 KB against 8 KB before it only.
var statelessCompressor = newCompressor(gzip.StatelessCompression)

// maxStatelessBody is the largest answer statelessCompressor compresses:
// its block (compress's flate.maxStatelessBlock).
const maxStatelessBody = 1<<15 - 1

// fastCompressorFor is the compressor for a page of n bytes rendered
// afresh, written in one piece.
func fastCompressorFor(n int) func(http.Handler) http.HandlerFunc {
	if n <= maxStatelessBody {
		return statelessCompressor
	}
	return fastCompressor
}

func newCompressor(level int) func(http.Handler) http.HandlerFunc {
	wrap, err := gzhttp.NewWrapper(gzhttp.MinSize(1024), gzhttp.RandomJitter(32, 0, false), gzhttp.CompressionLevel(level))
	if err != nil {
		panic(err) // the options are constants
	}
	return wrap
}

// Routes lists every registered route as "METHOD path".
func (s *Server) Routes() []string {
	var routes []string
	for _, r := range s.echo.Router().Routes() {
		if r.Method != echo.RouteNotFound {
			routes = append(routes, r.Method+" "+r.Path)
		}
	}
	return routes
}

// Handler returns the portal as an http.Handler: the applications' hosts
// go to the gateway, the portal's own names to its routes; each request
// gets its ID first.
func (s *Server) Handler() http.Handler {
	h := onlyOwnHosts(s.cfg.Hosts, s.handler)
	if s.cfg.Applications != nil {
		h = s.cfg.Applications.Wrap(h)
	}
	h = withRequestID(h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		h.ServeHTTP(w, r)
	})
}

// Requests is how many requests the server has begun to answer, the
// portal's and the applications': whether people are using it, which the
// collector's tuning asks (cmd/instancehub's heapFloor).
func (s *Server) Requests() uint64 { return s.requests.Load() }

// onlyOwnHosts answers 421 Misdirected Request to a request for any other
// name than hosts: another name that reaches this server (DNS rebinding,
// a wildcard record, a trailing dot) is another origin, which the
// portal's cookies, its same-origin checks and the applications' origins
// never reckoned with. /healthz and /readyz answer on any name, for load
// balancers and orchestrators that probe by address.
func onlyOwnHosts(hosts []string, next http.Handler) http.Handler {
	if len(hosts) == 0 {
		return next
	}
	own := make(map[string]bool, len(hosts))
	var under []string // ".localhost:8080" for "*.localhost:8080"
	for _, h := range hosts {
		if suffix, ok := strings.CutPrefix(strings.ToLower(h), "*"); ok {
			under = append(under, suffix)
		} else {
			own[strings.ToLower(h)] = true
		}
	}
	isOwn := func(host string) bool {
		host = strings.ToLower(host)
		for _, suffix := range under {
			// One name or more under it, each a label: no empty one, so
			// no trailing dot's spelling either.
			if labels, ok := strings.CutSuffix(host, suffix); ok && labels != "" &&
				!strings.HasPrefix(labels, ".") && !strings.HasSuffix(labels, ".") && !strings.Contains(labels, "..") {
				return true
			}
		}
		return own[host]
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isOwn(r.Host) || r.URL.Path == "/healthz" || r.URL.Path == "/readyz" {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		http.Error(w, "The portal does not answer at this address.", http.StatusMisdirectedRequest)
	})
}

// Serve serves on ln until Shutdown; after one, it returns at once.
func (s *Server) Serve(ln net.Listener) error {
	err := s.httpServer().Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting requests and waits for those under way; Serve,
// called before or after, returns.
func (s *Server) Shutdown(ctx context.Context) error {
	return s.httpServer().Shutdown(ctx)
}

// newHTTP makes the server of httpServer.
func (s *Server) newHTTP() *http.Server {
	return &http.Server{
		Handler: s.Handler(),
		// Reading and writing are bounded per request of the portal
		// (limitBody); the applications' uploads, downloads and WebSockets
		// last as long as they need.
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		// A request line and headers larger than this are refused (431):
		// cookies and addresses of the portal are far smaller.
		MaxHeaderBytes: 64 << 10,
	}
}

// staticVersion is a hash of the static files, so that their URLs change
// whenever they do and browsers may cache them for good.
func staticVersion(fsys fs.FS) string {
	if fsys == nil {
		return "none"
	}
	h := sha256.New()
	_ = fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, path)
		if err == nil {
			h.Write([]byte(path))
			h.Write(b)
		}
		return err
	})
	return hex.EncodeToString(h.Sum(nil))[:12]
}
