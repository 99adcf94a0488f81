package web

import (
	"fmt"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/instancehub/instancehub"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// contentSecurityPolicy allows nothing inline and nothing from elsewhere.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

func (s *Server) securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		if s.secure(c) {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		return next(c)
	}
}

// csrf protects every state-changing request: browsers that send
// Sec-Fetch-Site are checked on it, others with a token kept in a cookie
// and sent back in a form field or the X-CSRF-Token header.
func (s *Server) csrf() echo.MiddlewareFunc {
	return middleware.CSRFWithConfig(middleware.CSRFConfig{
		TokenLookup:    "header:X-CSRF-Token,form:_csrf",
		CookieName:     "instancehub_csrf",
		CookiePath:     "/",
		CookieHTTPOnly: true,
		CookieSameSite: http.SameSiteLaxMode,
		CookieSecure:   s.cfg.SecureCookies,
		CookieMaxAge:   int((12 * time.Hour).Seconds()),
		// A browser's cross-site request is refused, and audited, here; a
		// same-site one must show the token.
		AllowSecFetchSiteFunc: func(c echo.Context) (bool, error) {
			if c.Request().Header.Get(echo.HeaderSecFetchSite) == "same-site" {
				return false, nil
			}
			return false, s.refuseForgery(c)
		},
		ErrorHandler: func(_ error, c echo.Context) error { return s.refuseForgery(c) },
	})
}

// refuseForgery audits and refuses a state-changing request that did not
// come from the portal's own pages.
func (s *Server) refuseForgery(c echo.Context) error {
	reason := "The request was refused because it did not come from this portal's own page. Reload the page and try again."
	s.service.RecordRefusal(c.Request().Context(), "request.csrf", c.Request().Method+" "+c.Request().URL.Path, reason)
	return echo.NewHTTPError(http.StatusForbidden, reason)
}

// withSource puts the request's address into its context, for the audit log
// and the sign-in limit.
func (s *Server) withSource(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := instancehub.NewContextWithSource(c.Request().Context(), c.RealIP())
		c.SetRequest(c.Request().WithContext(ctx))
		return next(c)
	}
}

func (s *Server) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				s.cfg.Logger.Error("panic", "path", c.Path(), "panic", r, "stack", string(debug.Stack()))
				err = fmt.Errorf("panic: %v", r)
			}
		}()
		return next(c)
	}
}

func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		req := c.Request()
		if c.Path() != "/static/*" && c.Path() != "/healthz" {
			s.cfg.Logger.Debug("request", "method", req.Method, "path", req.URL.Path,
				"status", c.Response().Status, "took", time.Since(start).Round(time.Microsecond), "ip", c.RealIP())
		}
		return nil
	}
}

// secure reports whether the request reached the portal over TLS, or the
// portal was told it sits behind a proxy that terminates TLS.
func (s *Server) secure(c echo.Context) bool {
	return s.cfg.SecureCookies || c.Request().TLS != nil
}

func isHTMX(c echo.Context) bool { return c.Request().Header.Get("HX-Request") == "true" }

// htmxTarget is the id of the element an htmx request swaps.
func htmxTarget(c echo.Context) string {
	if !isHTMX(c) {
		return ""
	}
	return c.Request().Header.Get("HX-Target")
}
