package service

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/instancehub/instancehub"
)

// record writes the audit event of a state-changing action: succeeded when
// err is nil, denied for a refusal of rights, failed otherwise.
func (s *Service) record(ctx context.Context, action, target string, err error) {
	s.writeAudit(ctx, s.auditEvent(ctx, action, target, err))
}

// auditEvent is the event record writes.
func (s *Service) auditEvent(ctx context.Context, action, target string, err error) *instancehub.AuditEvent {
	e := &instancehub.AuditEvent{At: s.now(), Action: action, Target: target, Result: instancehub.AuditSucceeded, SourceIP: instancehub.SourceFromContext(ctx)}
	if user := instancehub.UserFromContext(ctx); user != nil {
		e.UserID, e.UserName, e.UserEmail = user.ID, user.Name, user.Email
	}
	switch instancehub.ErrorCode(err) {
	case "":
	case instancehub.EFORBIDDEN, instancehub.EUNAUTHORIZED:
		e.Result, e.Reason = instancehub.AuditDenied, instancehub.ErrorMessage(err)
	default:
		e.Result, e.Reason = instancehub.AuditFailed, instancehub.ErrorMessage(err)
		if fields := instancehub.ErrorFields(err); len(fields) > 0 {
			e.Reason = fieldsText(fields)
		}
	}
	e.Clip() // whatever a stranger typed, the log keeps a bounded part of it
	return e
}

// Waits between attempts to write an audit event the database did not
// take for its own reasons (a dropped connection, a lock held elsewhere, a
// disk that refused a write for a moment): the action happened, and the
// log that says so outlasts a blink, as an operation's progress does.
const (
	firstAuditWait = 50 * time.Millisecond
	auditWaitFor   = 3 * time.Second // in all, per event: the request waits
)

// writeAudit adds e to the log, or counts it in its tally when it is a
// refusal or a failure, setting its Count. A write the database fails for
// its own reasons is tried again for a moment (auditWaitFor); the store's
// refusals are not.
func (s *Service) writeAudit(ctx context.Context, e *instancehub.AuditEvent) {
	add := s.Audit.RecordAudit
	if e.Tallied() {
		add = s.Audit.TallyAudit
	}
	ctx = context.WithoutCancel(ctx)
	first, wait := time.Now(), firstAuditWait
	for {
		err := add(ctx, e)
		if err == nil {
			s.metrics().Audited(e, e.Tallied())
			return
		}
		var refusal *instancehub.Error
		if errors.As(err, &refusal) || time.Since(first)+wait > auditWaitFor {
			s.logger().ErrorContext(ctx, "record audit event", "action", e.Action, "user", e.UserName, "target", e.Target, "result", e.Result, "reason", e.Reason, "err", err)
			return
		}
		time.Sleep(wait)
		wait *= 2
	}
}

// recordDenial writes an audit event only when a read was refused.
func (s *Service) recordDenial(ctx context.Context, action, target string, err error) {
	if c := instancehub.ErrorCode(err); c == instancehub.EFORBIDDEN {
		s.record(ctx, action, target, err)
	}
}

// RecordRefusal audits a request refused before it reached the service,
// such as one without a valid CSRF token.
func (s *Service) RecordRefusal(ctx context.Context, action, target, reason string) {
	s.record(ctx, action, target, instancehub.Errorf(instancehub.EFORBIDDEN, "%s", reason))
}

// RecordAutomatic writes the audit event of an operation the portal
// started by itself: its actor is the portal, its reason names the trigger
// and the rule; result is a Firing result.
func (s *Service) RecordAutomatic(ctx context.Context, target string, kind instancehub.OperationKind, trigger instancehub.Trigger, rule, result string, err error) {
	e := &instancehub.AuditEvent{At: s.now(), UserName: instancehub.PortalActor, Action: "instance." + kind.Verb(), Target: target,
		Result: instancehub.AuditSucceeded, Reason: fmt.Sprintf("Trigger %s: %s.", trigger, rule)}
	switch result {
	case instancehub.FiringSkipped:
		e.Result, e.Reason = instancehub.AuditSkipped, e.Reason+" Skipped: "+instancehub.ErrorMessage(err)
	case instancehub.FiringFailed:
		e.Result, e.Reason = instancehub.AuditFailed, e.Reason+" "+instancehub.ErrorMessage(err)
	}
	e.Clip()
	if rerr := s.Audit.RecordAudit(context.WithoutCancel(ctx), e); rerr != nil {
		s.logger().ErrorContext(ctx, "record audit event", "action", e.Action, "user", e.UserName, "target", e.Target, "result", e.Result, "reason", e.Reason, "err", rerr)
		return
	}
	s.metrics().Audited(e, false)
}

// fieldsText lists a form's field messages in a stable order.
func fieldsText(fields map[string]string) string {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + fields[k]
	}
	return strings.Join(parts, " ")
}

// AuditEvents returns a page of the audit log (page from 1), or every
// matching event when page is 0; an export should call ExportAudit, which
// streams them instead. Reading the log is itself
// audited: reviewers want to know who looked, and who took a copy.
func (s *Service) AuditEvents(ctx context.Context, f instancehub.AuditFilter, page int) (p *instancehub.AuditPage, err error) {
	action := "audit.read"
	if page == 0 {
		action = "audit.export"
	}
	f = f.Bound()
	defer func() { s.record(ctx, action, auditFilterText(f), err) }()
	if _, err := authorize(ctx, instancehub.PermReadAudit, "read the audit log"); err != nil {
		return nil, err
	}
	f.Offset, f.Limit = 0, 0
	if page > 0 {
		f.Offset, f.Limit = (page-1)*instancehub.AuditPageSize, instancehub.AuditPageSize
	}
	events, total, err := s.Audit.FindAuditEvents(ctx, f)
	if err != nil {
		return nil, err
	}
	return &instancehub.AuditPage{Filter: f, Events: events, Total: total, Page: page, Pages: max(1, (total+instancehub.AuditPageSize-1)/instancehub.AuditPageSize)}, nil
}

// auditFilterText describes a filter for the audit log's own entries.
func auditFilterText(f instancehub.AuditFilter) string {
	var parts []string
	for _, kv := range [][2]string{{"user", f.User}, {"action", f.Action}, {"target", f.Target}, {"result", f.Result}} {
		if kv[1] != "" {
			parts = append(parts, kv[0]+"="+kv[1])
		}
	}
	if !f.From.IsZero() {
		parts = append(parts, "from="+f.From.Format("2006-01-02"))
	}
	if !f.To.IsZero() {
		parts = append(parts, "to="+f.To.Format("2006-01-02"))
	}
	if len(parts) == 0 {
		return "all events"
	}
	return strings.Join(parts, " ")
}
