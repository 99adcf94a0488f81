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
// day included. A date that is not one, or a "to" before "from", is an
// EINVALID error naming its field; q keeps what was given, for the form.
func parseAuditQuery(c *echo.Context) (views.AuditQuery, instancehub.AuditFilter, error) {
	q := views.AuditQuery{
		User: c.QueryParam("user"), Action: c.QueryParam("action"), Target: c.QueryParam("target"),
		Result: c.QueryParam("result"), From: instancehub.Clip(c.QueryParam("from"), 40), To: instancehub.Clip(c.QueryParam("to"), 40),
	}
	f := instancehub.AuditFilter{User: strings.TrimSpace(q.User), Action: q.Action, Target: strings.TrimSpace(q.Target), Result: q.Result}
	errs := map[string]string{}
	day := func(field, label, given string) time.Time {
		if given == "" {
			return time.Time{}
		}
		t, err := time.Parse(time.DateOnly, given)
		if err != nil {
			errs[field] = fmt.Sprintf("%s is not a date: %q. Use YYYY-MM-DD.", label, given)
		}
		return t
	}
	f.From = day("from", "From", q.From)
	if to := day("to", "To", q.To); !to.IsZero() {
		f.To = to.AddDate(0, 0, 1)
		if to.Before(f.From) {
			errs["to"] = "To is before From: no day can be in both."
		}
	}
	if len(errs) == 0 {
		return q, f, nil
	}
	q.Errors = errs
	err := &instancehub.Error{Code: instancehub.EINVALID, Message: auditErrorMessage(errs), Fields: errs}
	return q, f, err
}

// auditErrorMessage is the filter's errors in one message, From's first.
func auditErrorMessage(errs map[string]string) string {
	var parts []string
	for _, field := range []string{"from", "to"} {
		if m := errs[field]; m != "" {
			parts = append(parts, m)
		}
	}
	return strings.Join(parts, " ")
}

func (s *Server) auditPage(c *echo.Context) error {
	q, f, err := parseAuditQuery(c)
	if err != nil {
		// Nothing is shown that the filter did not ask for: the form keeps
		// what was given, with the message beside the field.
		return s.render(c, http.StatusBadRequest, "audit", views.AuditPage(&instancehub.AuditPage{Page: 1, Pages: 1}, q))
	}
	page, _ := strconv.Atoi(c.QueryParam("page"))
	events, err := s.service.AuditEvents(c.Request().Context(), f, max(page, 1))
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "audit", views.AuditPage(events, q))
}

// auditExport streams every matching event as CSV, one at a time.
func (s *Server) auditExport(c *echo.Context) error {
	_, f, err := parseAuditQuery(c)
	if err != nil {
		return err
	}
	return s.service.ExportAudit(c.Request().Context(), f, func() io.Writer {
		h := c.Response().Header()
		h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
		h.Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="instancehub-audit-%s.csv"`, s.cfg.Now().UTC().Format("20060102-1504")))
		c.Response().WriteHeader(http.StatusOK)
		return c.Response()
	})
}
