package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/instancehub/instancehub"
	"github.com/labstack/echo/v5"
	"golang.org/x/oauth2"
)

const (
	oidcCookie = "instancehub_oidc"
	// A sign-in at the identity provider must come back within this time.
	oidcAttemptTTL = 10 * time.Minute
)

// loginAttempt is a single sign-on under way: what the answer is checked
// with. It lives in a cookie the server seals (encrypts and authenticates),
// so the PKCE verifier stays unreadable to the browser and the server keeps
// no table that a flood of sign-ins could fill.
type loginAttempt struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	Next     string `json:"x"`
	Expires  int64  `json:"e"`
}

// seal turns an attempt into a cookie value.
func (s *Server) seal(a loginAttempt) string {
	payload, _ := json.Marshal(a)
	return s.sealValue(oidcCookie, payload)
}

// open returns the attempt of a cookie value the server sealed, unexpired.
func (s *Server) open(value string, now time.Time) (loginAttempt, bool) {
	var a loginAttempt
	payload, ok := s.openValue(oidcCookie, value)
	if !ok || json.Unmarshal(payload, &a) != nil {
		return a, false
	}
	return a, now.Unix() < a.Expires
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// oidcLogin sends the browser to the identity provider with a fresh state,
// nonce and PKCE verifier. The state also goes into a cookie, which binds
// the answer to this browser.
func (s *Server) oidcLogin(c *echo.Context) error {
	if s.cfg.Identity == nil {
		return echo.NewHTTPError(http.StatusNotFound, "Single sign-on is not configured here.")
	}
	a := loginAttempt{State: randomToken(), Nonce: randomToken(), Verifier: oauth2.GenerateVerifier(),
		Next: safeNext(c.QueryParam("next")), Expires: s.cfg.Now().Add(oidcAttemptTTL).Unix()}
	to, err := s.cfg.Identity.AuthCodeURL(a.State, a.Nonce, a.Verifier)
	if instancehub.ErrorCode(err) == instancehub.EUNAVAILABLE {
		// The sign-in page says why single sign-on cannot be used now.
		return c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(a.Next))
	} else if err != nil {
		return err
	}
	c.SetCookie(s.cookie(c, oidcCookie, s.seal(a), int(oidcAttemptTTL.Seconds())))
	return c.Redirect(http.StatusFound, to)
}

// oidcCallback checks the identity provider's answer — state against the
// cookie and the attempt, then the code and ID token — and signs the person in.
// Nothing the answer says is shown or logged before its state checks out.
func (s *Server) oidcCallback(c *echo.Context) error {
	if s.cfg.Identity == nil {
		return echo.NewHTTPError(http.StatusNotFound, "Single sign-on is not configured here.")
	}
	ctx := c.Request().Context()
	s.clearCookie(c, oidcCookie)
	refuse := func(message string) error {
		s.service.RecordRefusal(ctx, "session.signIn", "single sign-on", message)
		return s.loginError(c, message)
	}
	state := c.QueryParam("state")
	cookie := s.readCookie(c, oidcCookie)
	if cookie == "" {
		return refuse("Single sign-on took too long, was already used, or started in another browser. Try again.")
	}
	attempt, fresh := s.open(cookie, s.cfg.Now())
	switch {
	case state == "" || subtle.ConstantTimeCompare([]byte(attempt.State), []byte(state)) != 1:
		return refuse("Single sign-on failed: the answer does not belong to a sign-in started in this browser. Try again.")
	case !fresh:
		return refuse("Single sign-on took too long. Try again.")
	}
	if e := c.QueryParam("error"); e != "" {
		return refuse("The identity provider did not sign you in (" + oauthErrorCode(e) + ").")
	}
	identity, err := s.cfg.Identity.Identify(ctx, c.QueryParam("code"), attempt.Verifier, attempt.Nonce)
	if err != nil {
		s.cfg.Logger.WarnContext(ctx, "single sign-on refused", "err", err)
		return refuse(instancehub.ErrorMessage(err))
	}
	in, err := s.service.SignInWithIdentity(ctx, identity, s.readCookie(c, sessionCookie))
	if instancehub.ErrorCode(err) == instancehub.EUNAUTHORIZED {
		return s.loginError(c, instancehub.ErrorMessage(err))
	} else if err != nil {
		return err
	}
	s.signedIn(c, in)
	return c.Redirect(http.StatusSeeOther, attempt.Next)
}

// oauthErrorCode keeps an OAuth error code ("access_denied") and nothing
// else of what the provider, or whoever built the link, wrote.
func oauthErrorCode(code string) string {
	if len(code) > 40 || strings.ContainsFunc(code, func(r rune) bool { return (r < 'a' || r > 'z') && r != '_' }) {
		return "unknown error"
	}
	return code
}
