package web

import (
	"net/http"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/views"
	"github.com/labstack/echo/v5"
)

// The pages that ask before disabling an account, removing a role and
// revoking a token, for browsers without script (with script, the page's
// dialog asks). Each reads what it names as the page that lists it does,
// and its form posts to the action's own route.

// confirmDisable asks before disabling an account.
func (s *Server) confirmDisable(c *echo.Context) error {
	id, ok := idParam(c)
	if !ok {
		return echo.ErrNotFound
	}
	u, err := s.service.UserToDisable(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "access", views.ConfirmPage(views.DisableConfirm(u)))
}

// confirmRemoveRole asks before removing a role assignment.
func (s *Server) confirmRemoveRole(c *echo.Context) error {
	id, ok := idParam(c)
	if !ok {
		return echo.ErrNotFound
	}
	a, err := s.service.RoleAssignmentToRemove(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "access", views.ConfirmPage(views.RemoveRoleConfirm(a)))
}

// confirmRevoke asks before revoking a token: one's own, or, from the
// Owners' list (?from=all), anyone's.
func (s *Server) confirmRevoke(c *echo.Context) error {
	id, ok := idParam(c)
	if !ok {
		return echo.ErrNotFound
	}
	all := c.QueryParam("from") == "all"
	tokens, err := s.service.APITokens(c.Request().Context(), all)
	if err != nil {
		return err
	}
	for _, t := range tokens {
		if t.ID == id && t.Revocable && t.Live(s.cfg.Now()) {
			return s.render(c, http.StatusOK, "access", views.ConfirmPage(views.RevokeConfirm(t, all)))
		}
	}
	return instancehub.Errorf(instancehub.ENOTFOUND, "No token %d to revoke.", id)
}
