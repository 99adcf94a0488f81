package web

import (
	"net/http"
	"net/url"
	"strings"
	"unicode"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/views"
	"github.com/labstack/echo/v5"
)

// loginOptions says how people may sign in here.
func (s *Server) loginOptions(next string) views.LoginOptions {
	opts := views.LoginOptions{Local: s.cfg.LocalAccounts, Next: next}
	if s.cfg.Identity != nil {
		opts.SSOName = s.cfg.Identity.Name()
		if err := s.cfg.Identity.Ready(); err != nil {
			opts.SSOUnavailable = instancehub.ErrorMessage(err)
		}
	}
	return opts
}

func (s *Server) loginPage(c *echo.Context) error {
	next := safeNext(c.QueryParam("next"))
	if instancehub.UserFromContext(c.Request().Context()) != nil {
		return c.Redirect(http.StatusSeeOther, next)
	}
	opts := s.loginOptions(next)
	opts.Error = s.takeLoginError(c)
	return s.render(c, http.StatusOK, "", views.LoginPage("", opts))
}

func (s *Server) login(c *echo.Context) error {
	email, next := c.FormValue("email"), safeNext(c.FormValue("next"))
	opts := s.loginOptions(next)
	if !s.cfg.LocalAccounts {
		opts.Error = "Signing in with a password is turned off here; use single sign-on."
		return s.render(c, http.StatusForbidden, "", views.LoginPage(email, opts))
	}
	in, err := s.sessions.SignIn(c.Request().Context(), email, c.FormValue("password"), s.readCookie(c, sessionCookie))
	switch code := instancehub.ErrorCode(err); code {
	case "":
	case instancehub.EUNAUTHORIZED, instancehub.ETHROTTLED:
		opts.Error = instancehub.ErrorMessage(err)
		return s.render(c, statuses[code], "", views.LoginPage(email, opts))
	default:
		return err
	}
	s.signedIn(c, in)
	return c.Redirect(http.StatusSeeOther, next)
}

func (s *Server) logout(c *echo.Context) error {
	if err := s.sessions.SignOut(c.Request().Context(), sessionToken(c)); err != nil {
		return err
	}
	s.clearCookie(c, sessionCookie)
	return c.Redirect(http.StatusSeeOther, "/login")
}

// maxNext bounds a post-sign-in address: single sign-on carries it in a
// cookie, which browsers drop past 4 KiB.
const maxNext = 512

// safeNext keeps a post-sign-in redirect on this site: a path of its own,
// never a scheme, a host, a backslash or a control character, which
// browsers read in ways that lead elsewhere ("/\t/evil.example").
func safeNext(next string) string {
	u, err := url.Parse(next)
	switch {
	case err != nil, len(next) > maxNext, u.Scheme != "", u.Host != "", u.Opaque != "",
		!strings.HasPrefix(next, "/"), strings.HasPrefix(next, "//"),
		strings.ContainsFunc(next, func(r rune) bool { return r == '\\' || r < 0x20 || r == 0x7f || unicode.IsSpace(r) }):
		return "/"
	}
	return next
}

const loginErrorCookie = "instancehub_login_error"

// loginError sends the browser to the sign-in page with a message. The
// message travels in a cookie the server signs, never in the address, so
// that neither a link from elsewhere nor a sibling site can put words on the
// sign-in page.
func (s *Server) loginError(c *echo.Context, message string) error {
	c.SetCookie(s.cookie(c, loginErrorCookie, s.sealValue(loginErrorCookie, []byte(message)), 60))
	return c.Redirect(http.StatusSeeOther, "/login")
}

func (s *Server) takeLoginError(c *echo.Context) string {
	cookie := s.readCookie(c, loginErrorCookie)
	if cookie == "" {
		return ""
	}
	s.clearCookie(c, loginErrorCookie)
	message, _ := s.openValue(loginErrorCookie, cookie)
	return string(message)
}
