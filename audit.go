package instancehub

import (
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

// Clip bounds every text of e, marking what it cut.
func (e *AuditEvent) Clip() {
	e.UserName = Clip(e.UserName, MaxDisplayNameLength)
	e.UserEmail = Clip(e.UserEmail, MaxEmailLength)
	e.Action = Clip(e.Action, MaxResourceNameLength)
	e.Target = Clip(e.Target, MaxAuditTargetLength)
	e.Reason = Clip(e.Reason, MaxAuditReasonLength)
	e.SourceIP = Clip(e.SourceIP, MaxSourceLength)
}

// Bound cuts a filter's texts to what a search can mean.
func (f AuditFilter) Bound() AuditFilter {
	f.User, f.Target = Prefix(f.User, MaxSearchLength), Prefix(f.Target, MaxSearchLength)
	f.Action, f.Result = Prefix(f.Action, MaxResourceNameLength), Prefix(f.Result, MaxResourceNameLength)
	return f
}

// Tallied reports whether e is an outcome that anyone, a stranger or a
// script included, can repeat at will and that changed nothing: a denial,
// or a request that failed (bad input, a conflict, a throttled sign-in).
// Those are tallied, not kept one by one; what changed something is a row
// of its own. The portal's own actions are recorded apart
// (Service.RecordAutomatic).
func (e *AuditEvent) Tallied() bool {
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
