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
		return s.render(c, http.StatusOK, "compute", views.Detail(detail))
	}
	return s.render(c, http.StatusOK, "compute", views.DetailPage(detail))
}

// instanceRow is the list row of one instance, for rows that poll. A row
// whose instance is gone is removed.
func (s *Server) instanceRow(c *echo.Context) error {
	inst, err := s.service.Instance(c.Request().Context(), c.Param("name"))
	if instancehub.ErrorCode(err) == instancehub.ENOTFOUND {
		return c.HTML(http.StatusOK, "")
	} else if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "compute", views.InstanceRow(inst))
}

// openApplication is where an application of an instance opens. Only its
// owner gets past the service's check.
func (s *Server) openApplication(c *echo.Context) error {
	inst, app, err := s.service.OpenApplication(c.Request().Context(), c.Param("name"), c.Param("app"))
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "compute", views.ApplicationPage(inst.Name, app.Label))
}
