package web

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/instancehub/instancehub"
	"github.com/labstack/echo/v4"
)

const (
	sessionCookie = "instancehub_session"
	noticeCookie  = "instancehub_notice"
	// A session ends after sessionIdle without a request, and after
	// sessionLifetime in any case.
	sessionIdle     = 8 * time.Hour
	sessionLifetime = 7 * 24 * time.Hour
	// touchEvery limits writes: last-seen is recorded at most this often.
	touchEvery = time.Minute
)

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// loadSession puts the signed-in user, if any, into the request's context.
func (s *Server) loadSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		cookie, err := c.Cookie(sessionCookie)
		if err != nil || cookie.Value == "" {
			return next(c)
		}
		ctx := c.Request().Context()
		now := s.cfg.Now()
		hash := hashToken(cookie.Value)
		sess, err := s.sessions.FindSession(ctx, hash, now)
		if err != nil || now.Sub(sess.LastSeenAt) > sessionIdle {
			if err == nil {
				_ = s.sessions.DeleteSession(ctx, hash)
			}
			s.clearCookie(c, sessionCookie)
			return next(c)
		}
		if now.Sub(sess.LastSeenAt) > touchEvery {
			if err := s.sessions.TouchSession(ctx, hash, now); err != nil {
				return err
			}
		}
		c.Set("session", hash)
		c.SetRequest(c.Request().WithContext(instancehub.NewContextWithUser(ctx, sess.User)))
		return next(c)
	}
}

// requireUser sends visitors who are not signed in to the sign-in page.
func (s *Server) requireUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
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

// startSession signs user in with a fresh session: any session the browser
// had is ended first, so a session token can never be fixed in advance.
func (s *Server) startSession(c echo.Context, user *instancehub.User) error {
	ctx := c.Request().Context()
	if old, err := c.Cookie(sessionCookie); err == nil && old.Value != "" {
		if err := s.sessions.DeleteSession(ctx, hashToken(old.Value)); err != nil {
			return err
		}
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return err
	}
	token := base64.RawURLEncoding.EncodeToString(raw)
	now := s.cfg.Now().UTC()
	sess := &instancehub.Session{
		TokenHash: hashToken(token), UserID: user.ID,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(sessionLifetime),
	}
	if err := s.sessions.CreateSession(ctx, sess); err != nil {
		return err
	}
	c.SetCookie(&http.Cookie{
		Name: sessionCookie, Value: token, Path: "/", Expires: sess.ExpiresAt,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secure(c),
	})
	return nil
}

func (s *Server) endSession(c echo.Context) error {
	if hash, ok := c.Get("session").(string); ok {
		if err := s.sessions.DeleteSession(c.Request().Context(), hash); err != nil {
			return err
		}
	}
	s.clearCookie(c, sessionCookie)
	return nil
}

func (s *Server) clearCookie(c echo.Context, name string) { s.clearCookieAt(c, name, "/") }

func (s *Server) clearCookieAt(c echo.Context, name, path string) {
	c.SetCookie(&http.Cookie{
		Name: name, Value: "", Path: path, MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secure(c),
	})
}

// setNotice keeps a toast for the page a redirect leads to.
func (s *Server) setNotice(c echo.Context, tone, message string) {
	c.SetCookie(&http.Cookie{
		Name: noticeCookie, Value: url.QueryEscape(tone + "|" + message), Path: "/",
		MaxAge: 60, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secure(c),
	})
}

// takeNotice returns the toast a redirect left, once.
func (s *Server) takeNotice(c echo.Context) (tone, message string) {
	cookie, err := c.Cookie(noticeCookie)
	if err != nil {
		return "", ""
	}
	s.clearCookie(c, noticeCookie)
	v, err := url.QueryUnescape(cookie.Value)
	if err != nil {
		return "", ""
	}
	tone, message, _ = strings.Cut(v, "|")
	return tone, message
}
