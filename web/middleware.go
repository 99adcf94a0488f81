package web

import (
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/instancehub/instancehub"
	"github.com/labstack/echo/v5"
)

// contentSecurityPolicy allows nothing inline and nothing from elsewhere.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

func (s *Server) securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		h := c.Response().Header()
		h.Set("X-Content-Type-Options", "nosniff")
		if isAPI(c) {
			// The API answers data, never a page: nothing in it may run
			// or be framed, and the headers that shape a page's behaviour
			// have nothing to act on.
			h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		} else {
			h.Set("Content-Security-Policy", contentSecurityPolicy)
			h.Set("X-Frame-Options", "DENY")
			h.Set("Referrer-Policy", "same-origin")
			h.Set("Cross-Origin-Opener-Policy", "same-origin")
			h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		}
		// Pages show who may do what to which instance: no cache keeps them,
		// nor exports. Static files set their own.
		h.Set("Cache-Control", "no-store")
		if s.secure(c) {
			h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
		}
		return next(c)
	}
}

// csrf protects every state-changing request twice over. It must come from
// the portal's own origin: browsers say where a request comes from in
// Sec-Fetch-Site or Origin, and anything but same-origin is refused, a
// sibling site or an application's origin included (net/http's
// CrossOriginProtection). A signed-in request must also carry the token
// bound to its session, in the form body or the X-CSRF-Token header (never
// the address, which leaks into logs and Referer).
func (s *Server) csrf(next echo.HandlerFunc) echo.HandlerFunc {
	origin := http.NewCrossOriginProtection()
	return func(c *echo.Context) error {
		r := c.Request()
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			return next(c)
		}
		if isAPI(c) {
			// The API reads no cookie: only a token in a header, which no
			// other site can make a browser send.
			return next(c)
		}
		if err := origin.Check(r); err != nil {
			return s.refuseForgery(c)
		}
		if token := sessionToken(c); token != "" {
			sent := r.Header.Get("X-CSRF-Token")
			if sent == "" {
				sent = r.PostFormValue("_csrf")
			}
			if !instancehub.ValidCSRFToken(token, sent) {
				return s.refuseForgery(c)
			}
		}
		return next(c)
	}
}

// refuseForgery audits and refuses a state-changing request that did not
// come from the portal's own pages.
func (s *Server) refuseForgery(c *echo.Context) error {
	reason := "The request was refused because it did not come from this portal's own page. Reload the page and try again."
	s.sessions.RecordRefusal(c.Request().Context(), "request.csrf", c.Request().Method+" "+c.Request().URL.Path, reason)
	return echo.NewHTTPError(http.StatusForbidden, reason)
}

// maxFormBody bounds what a form may send: the portal's largest fields are
// the two setup scripts an instance may be created with, each of up to
// instancehub.MaxSetupCommandLength, which URL encoding may make three times
// longer.
const maxFormBody = 512 << 10

// limitBody bounds every request body, and refuses one over the limit before
// any handler reads it.
func (s *Server) limitBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		r := c.Request()
		// No request of the portal's own takes long: a slow body or a reader
		// that stops reading is cut off (unsupported only by test recorders).
		rc := http.NewResponseController(c.Response())
		_ = rc.SetReadDeadline(time.Now().Add(30 * time.Second))
		_ = rc.SetWriteDeadline(time.Now().Add(60 * time.Second))
		if r.ContentLength > maxFormBody {
			return echo.NewHTTPError(http.StatusRequestEntityTooLarge, "The request is too large.")
		}
		r.Body = http.MaxBytesReader(c.Response(), r.Body, maxFormBody)
		if r.Method == http.MethodPost {
			if err := r.ParseForm(); err != nil {
				var tooLarge *http.MaxBytesError
				if errors.As(err, &tooLarge) {
					return echo.NewHTTPError(http.StatusRequestEntityTooLarge, "The request is too large.")
				}
				return echo.NewHTTPError(http.StatusBadRequest, "The form could not be read.")
			}
		}
		return next(c)
	}
}

// withSource puts the request's address into its context, for the audit log
// and the sign-in limit.
func (s *Server) withSource(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		ctx := instancehub.NewContextWithSource(c.Request().Context(), c.RealIP())
		c.SetRequest(c.Request().WithContext(ctx))
		return next(c)
	}
}

func (s *Server) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				s.cfg.Logger.ErrorContext(c.Request().Context(), "panic", "path", c.Path(), "panic", r, "stack", string(debug.Stack()))
				err = fmt.Errorf("panic: %v", r)
			}
		}()
		return next(c)
	}
}

// logRequests answers a handler's error, then logs the request and counts
// it in the metrics, under its route's pattern.
func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			s.handleError(c, err)
		}
		took := time.Since(start)
		req := c.Request()
		status := 0
		if resp, err := echo.UnwrapResponse(c.Response()); err == nil {
			status = resp.Status
		}
		if c.Path() != "/static/*" && c.Path() != "/healthz" && c.Path() != "/readyz" {
			s.cfg.Logger.DebugContext(req.Context(), "request", "method", req.Method, "path", req.URL.Path,
				"status", status, "took", took.Round(time.Microsecond), "ip", c.RealIP())
		}
		if s.cfg.Metrics != nil {
			route, method := c.Path(), req.Method
			if !s.patterns[route] || (status == http.StatusNotFound || status == http.StatusMethodNotAllowed) && unmatched(c) {
				route = UnmatchedRoute
			}
			if !s.methods[method] {
				method = "other"
			}
			s.cfg.Metrics.Request(route, method, status, took)
		}
		return nil
	}
}

// unmatched reports whether no route matched the request: the router
// answers those itself (404, 405), under the pattern it came closest to.
func unmatched(c *echo.Context) bool {
	name := c.RouteInfo().Name
	return name == echo.NotFoundRouteName || name == echo.MethodNotAllowedRouteName
}

// secure reports whether the request reached the portal over TLS, or the
// portal was told it sits behind a proxy that terminates TLS.
func (s *Server) secure(c *echo.Context) bool {
	return s.cfg.SecureCookies || c.Request().TLS != nil
}

func isHTMX(c *echo.Context) bool { return c.Request().Header.Get("HX-Request") == "true" }

// htmxTarget is the id of the element an htmx request swaps.
func htmxTarget(c *echo.Context) string {
	if !isHTMX(c) {
		return ""
	}
	return c.Request().Header.Get("HX-Target")
}
