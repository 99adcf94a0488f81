package web

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/views"
	"github.com/labstack/echo/v5"
)

// parseAuditQuery reads the filter; dates are whole days in UTC, the "to"
// day included.
func parseAuditQuery(c *echo.Context) (views.AuditQuery, instancehub.AuditFilter) {
	q := views.AuditQuery{
		User: c.QueryParam("user"), Action: c.QueryParam("action"), Target: c.QueryParam("target"),
		Result: c.QueryParam("result"), From: c.QueryParam("from"), To: c.QueryParam("to"),
	}
	f := instancehub.AuditFilter{User: strings.TrimSpace(q.User), Action: q.Action, Target: strings.TrimSpace(q.Target), Result: q.Result}
	if t, err := time.Parse(time.DateOnly, q.From); err == nil {
		f.From = t
	} else {
		q.From = ""
	}
	if t, err := time.Parse(time.DateOnly, q.To); err == nil {
		f.To = t.AddDate(0, 0, 1)
	} else {
		q.To = ""
	}
	return q, f
}

func (s *Server) auditPage(c *echo.Context) error {
	q, f := parseAuditQuery(c)
	page, _ := strconv.Atoi(c.QueryParam("page"))
	events, err := s.service.AuditEvents(c.Request().Context(), f, max(page, 1))
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "audit", views.AuditPage(events, q))
}

// auditExport streams every matching event as CSV, one at a time.
func (s *Server) auditExport(c *echo.Context) error {
	_, f := parseAuditQuery(c)
	return s.service.ExportAudit(c.Request().Context(), f, func() io.Writer {
		h := c.Response().Header()
		h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
		h.Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="instancehub-audit-%s.csv"`, s.cfg.Now().UTC().Format("20060102-1504")))
		c.Response().WriteHeader(http.StatusOK)
		return c.Response()
	})
}
