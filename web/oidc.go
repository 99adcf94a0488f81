package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/instancehub/instancehub"
	"github.com/labstack/echo/v4"
	"golang.org/x/oauth2"
)

const (
	oidcCookie = "instancehub_oidc"
	// A sign-in at the identity provider must come back within this time.
	oidcAttemptTTL  = 10 * time.Minute
	maxOIDCAttempts = 10000
)

// loginAttempt is a single sign-on under way: what the answer is checked with.
type loginAttempt struct {
	nonce, verifier, next string
	expires               time.Time
}

// loginAttempts keeps attempts by state, in memory: an attempt lost to a
// restart only means signing in again.
type loginAttempts struct {
	mu sync.Mutex
	m  map[string]loginAttempt
}

func (l *loginAttempts) put(state string, a loginAttempt, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = map[string]loginAttempt{}
	}
	for k, v := range l.m {
		if now.After(v.expires) || len(l.m) >= maxOIDCAttempts {
			delete(l.m, k)
		}
	}
	l.m[state] = a
}

// take returns the attempt of state once.
func (l *loginAttempts) take(state string, now time.Time) (loginAttempt, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	a, ok := l.m[state]
	delete(l.m, state)
	return a, ok && now.Before(a.expires)
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// oidcLogin sends the browser to the identity provider with a fresh state,
// nonce and PKCE verifier. The state also goes into a cookie, which binds
// the answer to this browser.
func (s *Server) oidcLogin(c echo.Context) error {
	if s.cfg.Identity == nil {
		return echo.NewHTTPError(http.StatusNotFound, "Single sign-on is not configured here.")
	}
	state, nonce, verifier := randomToken(), randomToken(), oauth2.GenerateVerifier()
	now := s.cfg.Now()
	s.logins.put(state, loginAttempt{nonce: nonce, verifier: verifier, next: safeNext(c.QueryParam("next")), expires: now.Add(oidcAttemptTTL)}, now)
	c.SetCookie(&http.Cookie{
		Name: oidcCookie, Value: state, Path: "/auth/oidc/", MaxAge: int(oidcAttemptTTL.Seconds()),
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secure(c),
	})
	return c.Redirect(http.StatusFound, s.cfg.Identity.AuthCodeURL(state, nonce, verifier))
}

// oidcCallback checks the identity provider's answer — state against the
// cookie and the attempt, then the code and ID token — and signs the person in.
// Nothing the answer says is shown or logged before its state checks out.
func (s *Server) oidcCallback(c echo.Context) error {
	if s.cfg.Identity == nil {
		return echo.NewHTTPError(http.StatusNotFound, "Single sign-on is not configured here.")
	}
	ctx := c.Request().Context()
	s.clearCookieAt(c, oidcCookie, "/auth/oidc/")
	refuse := func(message string) error {
		s.service.RecordRefusal(ctx, "session.signIn", "single sign-on", message)
		return s.loginError(c, message)
	}
	state := c.QueryParam("state")
	cookie, err := c.Cookie(oidcCookie)
	if err != nil || state == "" || subtle.ConstantTimeCompare([]byte(cookie.Value), []byte(state)) != 1 {
		return refuse("Single sign-on failed: the answer does not belong to a sign-in started in this browser. Try again.")
	}
	attempt, ok := s.logins.take(state, s.cfg.Now())
	if !ok {
		return refuse("Single sign-on took too long or was already used. Try again.")
	}
	if e := c.QueryParam("error"); e != "" {
		return refuse("The identity provider did not sign you in (" + oauthErrorCode(e) + ").")
	}
	identity, err := s.cfg.Identity.Identify(ctx, c.QueryParam("code"), attempt.verifier, attempt.nonce)
	if err != nil {
		s.cfg.Logger.Warn("single sign-on refused", "err", err)
		return refuse(instancehub.ErrorMessage(err))
	}
	user, err := s.service.SignInExternal(ctx, identity)
	if instancehub.ErrorCode(err) == instancehub.EUNAUTHORIZED {
		return s.loginError(c, instancehub.ErrorMessage(err))
	} else if err != nil {
		return err
	}
	if err := s.startSession(c, user); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, attempt.next)
}

// oauthErrorCode keeps an OAuth error code ("access_denied") and nothing
// else of what the provider, or whoever built the link, wrote.
func oauthErrorCode(code string) string {
	if len(code) > 40 || strings.ContainsFunc(code, func(r rune) bool { return (r < 'a' || r > 'z') && r != '_' }) {
		return "unknown error"
	}
	return code
}

