package service

import (
	"context"
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/instancehub/instancehub"
)

// AuditCSVHeader is the first line of an export of the audit log.
var AuditCSVHeader = []string{"time_utc", "user_name", "user_email", "action", "target", "result", "reason", "source_address", "count"}

// ExportAudit writes every matching event as CSV, newest first, reading
// them one at a time from the store, so that exporting a large log takes no
// more memory than a page of it. It calls open once the reader is
// authorized, before writing anything, and writes to what open returns: the
// caller sets its response's headers there, and an error returned before
// open was called can still become an error page. Taking the copy is
// audited.
func (s *Service) ExportAudit(ctx context.Context, f instancehub.AuditFilter, open func() io.Writer) (err error) {
	f = f.Bound()
	defer func() { s.record(ctx, "audit.export", auditFilterText(f), err) }()
	if _, err := authorize(ctx, instancehub.PermReadAudit, "read the audit log"); err != nil {
		return err
	}
	w := csv.NewWriter(open())
	if err := w.Write(AuditCSVHeader); err != nil {
		return err
	}
	err = s.Audit.WalkAuditEvents(ctx, f, func(e *instancehub.AuditEvent) error {
		return w.Write(auditCSVRecord(e))
	})
	w.Flush()
	if err != nil {
		return err
	}
	return w.Error()
}

func auditCSVRecord(e *instancehub.AuditEvent) []string {
	return []string{e.At.UTC().Format(time.RFC3339), csvCell(e.UserName), csvCell(e.UserEmail), csvCell(e.Action),
		csvCell(e.Target), e.Result, csvCell(e.Reason), csvCell(e.SourceIP), strconv.Itoa(e.Count)}
}

// csvCell keeps a spreadsheet from running a value as a formula.
func csvCell(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}
