package web

import (
	"net/http"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/views"
	"github.com/labstack/echo/v5"
)

func (s *Server) showInstance(c *echo.Context) error {
	detail, err := s.service.InstanceDetail(c.Request().Context(), c.Param("name"))
	if instancehub.ErrorCode(err) == instancehub.ENOTFOUND && htmxTarget(c) == "detail" {
		// The details page polled an instance that is now deleted: back to
		// the list, once, instead of an error every two seconds.
		s.setNotice(c, "success", c.Param("name")+" was deleted.")
		c.Response().Header().Set("HX-Redirect", "/instances")
		return c.NoContent(http.StatusOK)
	} else if err != nil {
		return err
	}
	if htmxTarget(c) == "detail" {
		return s.renderEveryView(c, http.StatusOK, "compute", views.Detail(detail))
	}
	return s.renderEveryView(c, http.StatusOK, "compute", views.DetailPage(detail))
}

// bootLog shows the end of an instance's boot log.
func (s *Server) bootLog(c *echo.Context) error {
	page, err := s.service.BootLog(c.Request().Context(), c.Param("name"))
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "compute", views.BootLogPage(page))
}

// instanceRow is the list row of one instance, for rows that poll. A row
// whose instance is gone is removed.
func (s *Server) instanceRow(c *echo.Context) error {
	inst, err := s.service.Instance(c.Request().Context(), c.Param("name"))
	if instancehub.ErrorCode(err) == instancehub.ENOTFOUND {
		// Gone (deleted): the row that asks removes itself, whether it
		// swaps its cells (a change heard) or itself (an action).
		c.Response().Header().Set("HX-Reswap", "delete")
		return c.HTML(http.StatusOK, "")
	} else if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "compute", views.InstanceRow(inst))
}

// openApplication opens an application of an instance: the gateway checks
// that the signed-in user owns the running instance and sends the browser to
// the application's own origin, first to bind the sign-in to this browser,
// then, back here with its state, with a single-use ticket.
func (s *Server) openApplication(c *echo.Context) error {
	ctx := c.Request().Context()
	name, slug := c.Param("name"), c.Param("app")
	if s.cfg.Applications == nil {
		inst, app, err := s.service.OpenApplication(ctx, name, slug)
		if err != nil {
			return err
		}
		return s.render(c, http.StatusOK, "compute", views.ApplicationPage(inst.Name, app.Label, ""))
	}
	// The link on the portal says first that the application's server was
	// stopped to make room since its last use, as the open starts it anew.
	var restarted string
	if c.QueryParam("state") == "" {
		var err error
		if restarted, err = s.service.ApplicationRestarted(ctx, name, slug); err != nil {
			return err
		}
	}
	target, err := s.cfg.Applications.OpenURL(ctx, sessionToken(c), name, slug, c.QueryParam("state"))
	app, _ := instancehub.FindApplication(slug)
	switch {
	case instancehub.ErrorCode(err) == instancehub.EUNAVAILABLE:
		return s.render(c, http.StatusOK, "compute", views.ApplicationPage(name, app.Label, instancehub.ErrorMessage(err)))
	case err != nil:
		return err
	case restarted != "":
		return s.render(c, http.StatusOK, "compute", views.ApplicationRestartedPage(name, app.Label, restarted, target))
	}
	return c.Redirect(http.StatusSeeOther, target)
}

// RefuseApplication writes, in the portal's look, the page of a request the
// applications gateway refused.
func (s *Server) RefuseApplication(w http.ResponseWriter, r *http.Request, status int, message string) {
	if err := s.writeError(s.echo.NewContext(r, w), status, message); err != nil {
		s.cfg.Logger.ErrorContext(r.Context(), "write a refused application's page", "err", err)
	}
}
