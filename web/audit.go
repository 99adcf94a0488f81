package web

import (
	"encoding/csv"
	"fmt"
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

// auditExport writes every matching event as CSV.
func (s *Server) auditExport(c *echo.Context) error {
	_, f := parseAuditQuery(c)
	events, err := s.service.AuditEvents(c.Request().Context(), f, 0)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	h.Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="instancehub-audit-%s.csv"`, s.cfg.Now().UTC().Format("20060102-1504")))
	c.Response().WriteHeader(http.StatusOK)
	w := csv.NewWriter(c.Response())
	_ = w.Write([]string{"time_utc", "user_name", "user_email", "action", "target", "result", "reason", "source_address"})
	for _, e := range events.Events {
		_ = w.Write([]string{e.At.UTC().Format(time.RFC3339), cell(e.UserName), cell(e.UserEmail), cell(e.Action),
			cell(e.Target), e.Result, cell(e.Reason), cell(e.SourceIP)})
	}
	w.Flush()
	return w.Error()
}

// cell keeps a spreadsheet from running a value as a formula.
func cell(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}
