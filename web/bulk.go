package web

import (
	"net/http"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/views"
	"github.com/labstack/echo/v5"
)

// bulkAct carries out the toolbar's Start, Stop, Restart or Delete on the
// rows selected in the list, each as its own action, and says on the list
// what was done and what was refused. A Delete asks first, on a page of its
// own when no dialog did.
func (s *Server) bulkAct(c *echo.Context) error {
	kind, err := instancehub.ParseOperationKind(c.FormValue("action"))
	if err != nil || kind == instancehub.OpCreate {
		return instancehub.Errorf(instancehub.EINVALID, "Choose Start, Stop, Restart or Delete.")
	}
	form, err := c.FormValues()
	if err != nil {
		return err
	}
	names := form["n"]
	if kind == instancehub.OpDelete && c.FormValue("confirmed") != "1" && len(names) > 0 && len(names) <= instancehub.MaxBulk {
		return s.render(c, http.StatusOK, "compute", views.BulkDeletePage(names))
	}
	result, err := s.service.BulkAct(c.Request().Context(), names, kind)
	if instancehub.ErrorCode(err) == instancehub.EINVALID {
		s.setNotice(c, "danger", instancehub.ErrorMessage(err))
		return c.Redirect(http.StatusSeeOther, "/instances")
	} else if err != nil {
		return err
	}
	s.closeApplications(kind, result.Done...)
	tone, message := views.BulkMessage(result)
	s.setNotice(c, tone, message)
	return c.Redirect(http.StatusSeeOther, "/instances")
}
