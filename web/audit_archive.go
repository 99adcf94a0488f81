package web

import (
	"fmt"
	"net/http"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/views"
	"github.com/labstack/echo/v5"
)

// confirmAuditArchive asks before archiving the events before the date
// the Settings form gave; a date refused is shown under its field.
func (s *Server) confirmAuditArchive(c *echo.Context) error {
	before := c.QueryParam("before")
	plan, err := s.service.PlanAuditArchive(c.Request().Context(), before)
	if err != nil {
		return s.archiveRefused(c, before, err)
	}
	return s.render(c, http.StatusOK, "settings", views.ConfirmAuditArchivePage(plan))
}

// archiveAudit archives the events before the date confirmed, then shows
// Settings, where the file is offered.
func (s *Server) archiveAudit(c *echo.Context) error {
	before := c.FormValue("before")
	a, err := s.service.ArchiveAudit(c.Request().Context(), before)
	if err != nil {
		return s.archiveRefused(c, before, err)
	}
	s.setNotice(c, "success", fmt.Sprintf("Archived %d events before %s into %s, checked; they are no longer in the log. Download the file under Audit log retention.",
		a.Count, a.Before.Format("2006-01-02"), a.File))
	return c.Redirect(http.StatusSeeOther, "/settings")
}

// archiveRefused shows Settings with the reason under the date field, for
// a date or a file refused; anything else is an error page.
func (s *Server) archiveRefused(c *echo.Context, before string, err error) error {
	switch code := instancehub.ErrorCode(err); code {
	case instancehub.EINVALID, instancehub.ECONFLICT:
		return s.renderSettings(c, statuses[code], nil, views.ArchiveForm{Before: before, Error: instancehub.ErrorMessage(err)})
	}
	return err
}

// downloadAuditArchive sends the file of an archive, checked again.
func (s *Server) downloadAuditArchive(c *echo.Context) error {
	id, ok := idParam(c)
	if !ok {
		return instancehub.Errorf(instancehub.ENOTFOUND, "There is no such archive of the audit log.")
	}
	a, file, err := s.service.OpenAuditArchive(c.Request().Context(), id)
	if err != nil {
		return err
	}
	defer file.Close()
	c.Response().Header().Set(echo.HeaderContentDisposition,
		fmt.Sprintf(`attachment; filename="instancehub-audit-before-%s.jsonl"`, a.Before.Format("2006-01-02")))
	return c.Stream(http.StatusOK, "application/x-ndjson", file)
}
