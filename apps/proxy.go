package apps

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"time"

	"github.com/instancehub/instancehub"
)

// target is where one admitted request goes, handed to the proxy's Rewrite
// through the request's context.
type target struct {
	base   *url.URL
	secret string
	origin string // the application's origin, as the browser sees it
}

type targetKey struct{}

// admit refuses what no application request may be, before any lookup:
// path tricks, cross-origin writes and foreign WebSocket origins.
func (g *Gateway) admit(r *http.Request) error {
	if !cleanPath(r.URL) {
		return instancehub.Errorf(instancehub.EINVALID, "This address is not allowed.")
	}
	// Jupyter skips its own XSRF check for requests its sign-in takes as a
	// token's, which the instance's secret is, and the gateway adds the
	// secret to every request: so the gateway itself refuses writes from
	// any other origin, sibling ones included.
	if err := g.csrf.Check(r); err != nil {
		return instancehub.Errorf(instancehub.EFORBIDDEN, "Changes may come only from the application's own pages.")
	}
	if r.Header.Get("Upgrade") != "" {
		if !isWebSocket(r) {
			return instancehub.Errorf(instancehub.EINVALID, "Only WebSocket upgrades are allowed.")
		}
		// A WebSocket is not subject to the same-origin policy: a page on
		// a sibling origin could open one with the owner's cookie.
		if r.Header.Get("Origin") != g.origins.origin(r.Host) {
			return instancehub.Errorf(instancehub.EFORBIDDEN, "A WebSocket may be opened only from the application's own pages.")
		}
	}
	return nil
}

// cleanPath refuses dot segments and encoded slashes and backslashes: the
// instance is chosen by the host alone, but an upstream must not be led
// outside its base path either.
func cleanPath(u *url.URL) bool {
	escaped := strings.ToLower(u.EscapedPath())
	if !strings.HasPrefix(u.Path, "/") || strings.ContainsAny(u.Path, "\\\x00") ||
		strings.Contains(escaped, "%2f") || strings.Contains(escaped, "%5c") {
		return false
	}
	for seg := range strings.SplitSeq(u.Path, "/") {
		if seg == ".." || seg == "." {
			return false
		}
	}
	return true
}

func isWebSocket(r *http.Request) bool {
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		return false
	}
	for _, v := range r.Header.Values("Connection") {
		for tok := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(tok), "upgrade") {
				return true
			}
		}
	}
	return false
}

// serveProxied authorizes the request through the service and proxies it.
// It stays registered as a live connection while it lasts, so that a
// WebSocket or a long download ends when its authorization does.
func (g *Gateway) serveProxied(w http.ResponseWriter, r *http.Request, c *appCookie, name, slug string) {
	_, inst, app, err := g.authorize(r.Context(), c.Session, name, slug)
	if err == nil && inst.OwnerID != c.UserID {
		err = instancehub.Errorf(instancehub.EUNAUTHORIZED, "Open %s from the portal to sign in to it.", name)
	}
	if err != nil {
		g.refuse(w, r, err)
		return
	}
	base, secret, err := g.cfg.Upstreams.Upstream(r.Context(), inst, app)
	if err != nil {
		g.refuse(w, r, err)
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	conn := g.live.add(&liveConn{session: c.Session, userID: c.UserID, name: name, slug: slug, cancel: cancel})
	defer g.live.remove(conn)
	socket := isWebSocket(r)
	g.cfg.Metrics.Proxying(socket, 1)
	defer g.cfg.Metrics.Proxying(socket, -1)
	if countsAsActivity(r) {
		g.active.touch(name, g.cfg.Now())
	}
	w, r = counted(w, r, g.cfg.Metrics)
	if socket {
		w = &hijackWatcher{ResponseWriter: w, onMessage: func() { g.active.touch(name, g.cfg.Now()) }}
	}
	ctx = context.WithValue(ctx, targetKey{}, &target{base: base, secret: secret, origin: g.origins.origin(r.Host)})
	g.proxy.ServeHTTP(w, r.WithContext(ctx))
}

func (g *Gateway) newProxy() *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Rewrite:        rewrite,
		Transport:      newTransport(g.cfg.Dial),
		FlushInterval:  -1, // event streams and downloads go out as they come
		ModifyResponse: g.modifyResponse,
		ErrorHandler:   g.proxyError,
	}
}

// newTransport bounds the wait for an upstream, never the stream itself:
// uploads, downloads and WebSockets may last as long as they need. dial,
// if set, connects in place of TCP.
func newTransport(dial func(ctx context.Context, network, addr string) (net.Conn, error)) *http.Transport {
	if dial == nil {
		dial = (&net.Dialer{KeepAlive: 30 * time.Second}).DialContext
	}
	return &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			return dial(ctx, network, addr)
		},
		TLSHandshakeTimeout:    10 * time.Second,
		ResponseHeaderTimeout:  2 * time.Minute, // a kernel can take a while to start
		ExpectContinueTimeout:  time.Second,
		IdleConnTimeout:        90 * time.Second,
		MaxIdleConnsPerHost:    32,
		MaxResponseHeaderBytes: 256 << 10,
	}
}

// rewrite sends the request to the instance's application with nothing of
// the portal or of the client's own credentials, and the instance's secret
// as the application's token. ReverseProxy has already removed hop-by-hop
// headers and X-Forwarded-For/Host/Proto.
func rewrite(pr *httputil.ProxyRequest) {
	t := pr.In.Context().Value(targetKey{}).(*target)
	pr.SetURL(t.base)
	h := pr.Out.Header
	for k := range h {
		if strings.HasPrefix(k, "X-Forwarded-") {
			delete(h, k)
		}
	}
	h.Del("X-Real-Ip")
	h.Del("Forwarded")
	h.Del("X-Csrf-Token")
	keepAppCookies(pr.Out)
	h.Set("Authorization", "token "+t.secret)
	h.Set("X-Forwarded-Host", pr.In.Host)
	h.Set("X-Forwarded-Proto", strings.SplitN(t.origin, ":", 2)[0])
	// Jupyter compares Origin and Referer with its own Host and refuses
	// what differs; the gateway has checked them against the application's
	// origin, so it speaks for the upstream's.
	upstream := t.base.Scheme + "://" + t.base.Host
	if h.Get("Origin") != "" {
		h.Set("Origin", upstream)
	}
	if ref, ok := strings.CutPrefix(h.Get("Referer"), t.origin+"/"); ok {
		h.Set("Referer", upstream+"/"+ref)
	} else {
		h.Del("Referer")
	}
}

// keepAppCookies drops the portal's cookies and the gateway's own from the
// outbound request, and keeps the application's (Jupyter's _xsrf and
// username cookies).
func keepAppCookies(out *http.Request) {
	cookies := out.Cookies()
	out.Header.Del("Cookie")
	for _, c := range cookies {
		if !isOurCookie(c.Name) {
			out.AddCookie(c)
		}
	}
}

// isOurCookie: every cookie of the portal and of the gateway is named
// instancehub_…, with __Host- in front over TLS.
func isOurCookie(name string) bool {
	name = strings.ToLower(name)
	name = strings.TrimPrefix(strings.TrimPrefix(name, "__host-"), "__secure-")
	return strings.HasPrefix(name, "instancehub")
}

// modifyResponse keeps the upstream from setting the gateway's cookie, or
// any cookie beyond its own host, points its redirects at its origin, and
// drops its CORS answers.
func (g *Gateway) modifyResponse(res *http.Response) error {
	t := res.Request.Context().Value(targetKey{}).(*target)
	// Jupyter allows any origin to read what a request signed in as by a
	// token gets, naming that origin in Access-Control-Allow-Origin: the
	// gateway adds the instance's secret, which signs in so, to every
	// request and sends the upstream's own address as Origin, which Jupyter
	// then echoed to the browser. An application's
	// pages are read by its own origin only, which needs no CORS.
	for k := range res.Header {
		if strings.HasPrefix(http.CanonicalHeaderKey(k), "Access-Control-") {
			delete(res.Header, k)
		}
	}
	if lines := res.Header.Values("Set-Cookie"); len(lines) > 0 {
		res.Header.Del("Set-Cookie")
		for _, line := range lines {
			c, err := http.ParseSetCookie(line)
			if err == nil && !isOurCookie(c.Name) && c.Domain == "" {
				res.Header.Add("Set-Cookie", line)
			}
		}
	}
	upstream := t.base.Scheme + "://" + t.base.Host
	if loc, ok := strings.CutPrefix(res.Header.Get("Location"), upstream); ok {
		res.Header.Set("Location", t.origin+loc)
	}
	return nil
}

func (g *Gateway) proxyError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) {
		return // the browser left, or the connection's authorization ended
	}
	g.cfg.Logger.WarnContext(r.Context(), "application upstream", "host", r.Host, "path", r.URL.Path, "err", err)
	g.cfg.Refuse(w, r, http.StatusBadGateway, "The application is not answering. If the instance has just started, try again in a moment.")
}
