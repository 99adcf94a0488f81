package web

import (
	"net/http"
	"strings"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/views"
	"github.com/labstack/echo/v4"
)

func (s *Server) loginPage(c echo.Context) error {
	if instancehub.UserFromContext(c.Request().Context()) != nil {
		return c.Redirect(http.StatusSeeOther, safeNext(c.QueryParam("next")))
	}
	return s.render(c, http.StatusOK, "", views.LoginPage("", "", safeNext(c.QueryParam("next"))))
}

func (s *Server) login(c echo.Context) error {
	email, next := c.FormValue("email"), safeNext(c.FormValue("next"))
	user, err := s.service.Authenticate(c.Request().Context(), email, c.FormValue("password"))
	if instancehub.ErrorCode(err) == instancehub.EUNAUTHORIZED {
		return s.render(c, http.StatusUnauthorized, "", views.LoginPage(email, instancehub.ErrorMessage(err), next))
	} else if err != nil {
		return err
	}
	if err := s.startSession(c, user); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, next)
}

func (s *Server) logout(c echo.Context) error {
	if err := s.endSession(c); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/login")
}

// safeNext keeps a post-sign-in redirect on this site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/instances"
	}
	return next
}
