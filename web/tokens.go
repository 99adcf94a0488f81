package web

import (
	"fmt"
	"net/http"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/views"
	"github.com/labstack/echo/v5"
)

// tokensPage lists the signed-in user's tokens, with the form that makes one.
func (s *Server) tokensPage(c *echo.Context) error {
	return s.renderTokens(c, http.StatusOK, views.TokenForm{})
}

func (s *Server) renderTokens(c *echo.Context, status int, form views.TokenForm) error {
	ctx := c.Request().Context()
	tokens, err := s.service.APITokens(ctx, false)
	if err != nil {
		return err
	}
	if err := s.service.CheckCreateToken(ctx); err != nil {
		form.Refusal = instancehub.ErrorMessage(err)
	}
	return s.render(c, status, "tokens", views.TokensPage(tokens, form, s.cfg.Now()))
}

// createToken makes a token and shows its secret, once, on the page it
// answers (never through a redirect, which would need to keep it).
func (s *Server) createToken(c *echo.Context) error {
	form := views.TokenForm{Name: c.FormValue("name"), Expires: c.FormValue("expires"), ReadOnly: c.FormValue("read_only") == "on"}
	created, err := s.service.CreateToken(c.Request().Context(),
		instancehub.NewToken{Name: form.Name, Expires: form.Expires, ReadOnly: form.ReadOnly})
	switch instancehub.ErrorCode(err) {
	case instancehub.EINVALID:
		form.Errors = instancehub.ErrorFields(err)
		return s.renderTokens(c, http.StatusUnprocessableEntity, form)
	case instancehub.EFORBIDDEN: // the page says why, where the form was
		return s.renderTokens(c, http.StatusForbidden, views.TokenForm{})
	}
	if err != nil {
		return err
	}
	return s.renderTokens(c, http.StatusCreated, views.TokenForm{Created: created})
}

// revokeToken revokes a token, one's own or (for Owners) anyone's.
func (s *Server) revokeToken(c *echo.Context) error {
	id, ok := idParam(c)
	if !ok {
		return echo.ErrNotFound
	}
	t, err := s.service.RevokeToken(c.Request().Context(), id)
	if err != nil {
		return err
	}
	s.setNotice(c, "success", fmt.Sprintf("The token %s is revoked: it no longer works.", t.Name))
	if c.QueryParam("from") == "all" {
		return c.Redirect(http.StatusSeeOther, "/access/tokens")
	}
	return c.Redirect(http.StatusSeeOther, "/tokens")
}

// allTokens lists everyone's tokens, for Owners.
func (s *Server) allTokens(c *echo.Context) error {
	tokens, err := s.service.APITokens(c.Request().Context(), true)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "access", views.AllTokensPage(tokens, s.cfg.Now()))
}
