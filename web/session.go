package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/instancehub/instancehub"
	"github.com/labstack/echo/v5"
)

const (
	sessionCookie = "instancehub_session"
	noticeCookie  = "instancehub_notice"
	// sessionKey is where a request's session token waits in echo's context,
	// for the CSRF check and for signing out.
	sessionKey = "session"
)

// Sessions is what the portal's door asks of the service, before any
// handler: who sends a request, by its session cookie or its API token;
// signing in and out; and the record of a request refused before it
// reached the service.
type Sessions interface {
	// UserBySession: EUNAUTHORIZED when there is no such live session.
	UserBySession(ctx context.Context, token string) (*instancehub.User, error)
	// UserByToken: EUNAUTHORIZED for a token unknown, expired, revoked or
	// of a disabled user, answered after a pause.
	UserByToken(ctx context.Context, secret string) (*instancehub.User, error)
	// SignIn: EUNAUTHORIZED for a wrong email or password or a disabled
	// account, alike; ETHROTTLED for an attempt refused unchecked.
	SignIn(ctx context.Context, email, password, previous string) (*instancehub.SignedIn, error)
	// SignInWithIdentity signs in whom single sign-on vouched for.
	SignInWithIdentity(ctx context.Context, id *instancehub.Identity, previous string) (*instancehub.SignedIn, error)
	SignOut(ctx context.Context, token string) error
	// RecordRefusal audits a request refused before it reached the
	// service (a cross-site form).
	RecordRefusal(ctx context.Context, action, target, reason string)
}

// cookieName prefixes name with __Host- over TLS: browsers then take the
// cookie only from this very host, Secure and for path /, so no sibling
// site can set or replace it.
func (s *Server) cookieName(c *echo.Context, name string) string {
	if s.secure(c) {
		return "__Host-" + name
	}
	return name
}

// cookie is a cookie of the portal: host-only, path /, HttpOnly, SameSite
// Lax, Secure over TLS. maxAge 0 makes it last as long as the browser;
// below 0, it deletes it.
func (s *Server) cookie(c *echo.Context, name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name: s.cookieName(c, name), Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secure(c),
	}
}

// readCookie returns the value of one of the portal's cookies, or "".
func (s *Server) readCookie(c *echo.Context, name string) string {
	cookie, err := c.Cookie(s.cookieName(c, name))
	if err != nil {
		return ""
	}
	return cookie.Value
}

func (s *Server) clearCookie(c *echo.Context, name string) { c.SetCookie(s.cookie(c, name, "", -1)) }

// loadSession puts the signed-in user, if any, into the request's context.
// A GET's reads (the session, the page cache's version, the page) ask the
// database's data version once between them (instancehub.VersionMemo).
func (s *Server) loadSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		if m := c.Request().Method; m == http.MethodGet || m == http.MethodHead {
			ctx, memo := instancehub.NewContextWithVersionMemo(c.Request().Context())
			defer memo.End()
			c.SetRequest(c.Request().WithContext(ctx))
		}
		token := s.readCookie(c, sessionCookie)
		if token == "" || isAPI(c) {
			// The API never signs in with the cookie (api.go).
			return next(c)
		}
		ctx := c.Request().Context()
		user, err := s.sessions.UserBySession(ctx, token)
		if instancehub.ErrorCode(err) == instancehub.EUNAUTHORIZED {
			// Say why on the sign-in page this leads to: being sent there
			// with no word is baffling to someone whose access was removed.
			s.clearCookie(c, sessionCookie)
			s.setNotice(c, "info", "Your session has ended: you signed out elsewhere, it expired, or your access changed. Sign in again.")
			return next(c)
		} else if err != nil {
			return err
		}
		c.Set(sessionKey, token)
		c.SetRequest(c.Request().WithContext(instancehub.NewContextWithUser(ctx, user)))
		return next(c)
	}
}

// sessionToken is the request's session token, or "" when signed out.
func sessionToken(c *echo.Context) string {
	token, _ := c.Get(sessionKey).(string)
	return token
}

// requireUser sends visitors who are not signed in to the sign-in page.
func (s *Server) requireUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		if instancehub.UserFromContext(c.Request().Context()) != nil {
			return next(c)
		}
		login := "/login"
		if c.Request().Method == http.MethodGet && !isHTMX(c) {
			login += "?next=" + url.QueryEscape(c.Request().URL.RequestURI())
		}
		if isHTMX(c) {
			c.Response().Header().Set("HX-Redirect", login)
			return c.NoContent(http.StatusUnauthorized)
		}
		return c.Redirect(http.StatusSeeOther, login)
	}
}

// signedIn gives the browser the cookie of a session just started.
func (s *Server) signedIn(c *echo.Context, in *instancehub.SignedIn) {
	c.SetCookie(s.cookie(c, sessionCookie, in.Token, int(time.Until(in.ExpiresAt).Seconds())))
}

// setNotice keeps a toast for the page a redirect leads to.
func (s *Server) setNotice(c *echo.Context, tone, message string) {
	c.SetCookie(s.cookie(c, noticeCookie, s.sealValue(noticeCookie, []byte(tone+"|"+message)), 60))
}

// lastingNotice marks, after its tone, a notice that stays until it is
// dismissed (setLastingNotice).
const lastingNotice = "!"

// setLastingNotice leaves a notice for the next page that stays until the
// user dismisses it.
func (s *Server) setLastingNotice(c *echo.Context, tone, message string) {
	s.setNotice(c, tone+lastingNotice, message)
}

// takeNotice returns the toast a redirect left, once.
func (s *Server) takeNotice(c *echo.Context) (tone, message string) {
	value := s.readCookie(c, noticeCookie)
	if value == "" {
		return "", ""
	}
	s.clearCookie(c, noticeCookie)
	v, ok := s.openValue(noticeCookie, value)
	if !ok {
		return "", ""
	}
	tone, message, _ = strings.Cut(string(v), "|")
	return tone, message
}
