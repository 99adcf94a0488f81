package instancehub

import (
	"context"
	"fmt"
	"time"
)

// AuditEvent is one line of the audit log: a state-changing request or a
// refusal. Events are only ever added.
type AuditEvent struct {
	ID        int64
	At        time.Time
	UserID    int64 // 0 for visitors not signed in, and for the system
	UserName  string
	UserEmail string
	// Action names what was attempted: "instance.start", "role.assign",
	// "session.signIn"…
	Action string
	// Target is what it was attempted on: an instance, a user, a role.
	Target string
	Result string // AuditSucceeded, AuditFailed or AuditDenied
	// Reason says why an action failed or was denied.
	Reason   string
	SourceIP string
	// Count is how many times it happened: refusals repeated within a
	// minute are kept as one event that counts them.
	Count int
}

// clip bounds every text of e, marking what it cut.
func (e *AuditEvent) clip() {
	e.UserName = Clip(e.UserName, MaxDisplayNameLength)
	e.UserEmail = Clip(e.UserEmail, MaxEmailLength)
	e.Action = Clip(e.Action, MaxResourceNameLength)
	e.Target = Clip(e.Target, MaxAuditTargetLength)
	e.Reason = Clip(e.Reason, MaxAuditReasonLength)
	e.SourceIP = Clip(e.SourceIP, MaxSourceLength)
}

// bound cuts a filter's texts to what a search can mean.
func (f AuditFilter) bound() AuditFilter {
	f.User, f.Target = prefix(f.User, MaxSearchLength), prefix(f.Target, MaxSearchLength)
	f.Action, f.Result = prefix(f.Action, MaxResourceNameLength), prefix(f.Result, MaxResourceNameLength)
	return f
}

// tallied reports whether e is an outcome that anyone, a stranger or a
// script included, can repeat at will and that changed nothing: a denial,
// or a request that failed (bad input, a conflict, a throttled sign-in).
// Those are tallied, not kept one by one; what changed something is a row
// of its own. The portal's own actions are recorded apart (Service.RecordAutomatic).
func (e *AuditEvent) tallied() bool {
	return e.Result == AuditDenied || e.Result == AuditFailed
}

// The results of audited actions.
const (
	AuditSucceeded = "succeeded"
	AuditFailed    = "failed"
	AuditDenied    = "denied"
)

// AuditRefusals is the Action of a filter that selects every refusal: the
// requests refused before any action (a cross-site form) and every action
// denied for want of a permission.
const AuditRefusals = "refused"

// AuditFilter selects audit events; empty fields select everything.
type AuditFilter struct {
	User   string // a part of the user's name or email
	Action string // a prefix of the action: "instance." matches every instance action
	Target string // a part of the target
	Result string
	From   time.Time
	To     time.Time // exclusive
	Offset int
	Limit  int // 0 for all
}

// AuditSkipped is the result of an automatic action that did not apply:
// a schedule's start while the instance was running.
const AuditSkipped = "skipped"

// PortalActor is the name the audit log gives the portal when it acts by
// itself, on a schedule or an idle rule.
const PortalActor = "Portal"

// RecordAutomatic writes the audit event of an operation the portal
// started by itself: its actor is the portal, its reason names the trigger
// and the rule; result is a Firing result.
func (s *Service) RecordAutomatic(ctx context.Context, target string, kind OperationKind, trigger Trigger, rule, result string, err error) {
	e := &AuditEvent{At: s.now(), UserName: PortalActor, Action: "instance." + kind.Verb(), Target: target,
		Result: AuditSucceeded, Reason: fmt.Sprintf("Trigger %s: %s.", trigger, rule)}
	switch result {
	case FiringSkipped:
		e.Result, e.Reason = AuditSkipped, e.Reason+" Skipped: "+ErrorMessage(err)
	case FiringFailed:
		e.Result, e.Reason = AuditFailed, e.Reason+" "+ErrorMessage(err)
	}
	if s.Audit == nil {
		return
	}
	e.clip()
	if rerr := s.Audit.RecordAudit(context.WithoutCancel(ctx), e); rerr != nil {
		s.logger().ErrorContext(ctx, "record audit event", "action", e.Action, "user", e.UserName, "target", e.Target, "result", e.Result, "reason", e.Reason, "err", rerr)
		return
	}
	s.metrics().Audited(e, false)
}

// AuditPage is a page of the audit log.
type AuditPage struct {
	Filter AuditFilter
	Events []*AuditEvent
	Total  int
	Page   int
	Pages  int
}

// AuditPageSize is how many events a page of the audit log shows.
const AuditPageSize = 100
