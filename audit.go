package instancehub

import (
	"context"
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
}

// The results of audited actions.
const (
	AuditSucceeded = "succeeded"
	AuditFailed    = "failed"
	AuditDenied    = "denied"
)

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

// AuditStore keeps the audit log.
type AuditStore interface {
	// RecordAudit adds e, setting its ID.
	RecordAudit(ctx context.Context, e *AuditEvent) error
	// FindAuditEvents returns the matching events, newest first, and how
	// many match in all.
	FindAuditEvents(ctx context.Context, f AuditFilter) ([]*AuditEvent, int, error)
}
