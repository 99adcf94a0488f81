package instancehub

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// authorize returns the signed-in user when they hold p. doing completes
// "You need the … permission to …" in the refusal.
func authorize(ctx context.Context, p Permission, doing string) (*User, error) {
	user := UserFromContext(ctx)
	switch {
	case user == nil:
		return nil, Errorf(EUNAUTHORIZED, "Sign in to continue.")
	case !user.HasRole():
		return nil, Errorf(EFORBIDDEN, "You have no role in this workspace yet. Ask an Owner for access.")
	case user.ReadOnly && !slices.Contains(readPermissions, p):
		return nil, readOnlyRefusal(doing)
	case !user.Can(p):
		return nil, denied(p, doing)
	}
	return user, nil
}

// readOnlyRefusal refuses a change asked with a read-only token.
func readOnlyRefusal(doing string) *Error {
	return Errorf(EFORBIDDEN, "This token is read-only: it cannot %s. Use a token without the read-only scope.", doing)
}

// access works out what user may do with inst.
func access(user *User, inst *Instance) Access {
	mine := user != nil && inst.OwnerID == user.ID
	return Access{
		Manage:    user.Can(PermManageAll) || (mine && user.Can(PermManageOwn)),
		OpenApps:  mine && user.Can(PermReadInstances),
		AddSSHKey: mine && inst.SSHEnabled && user.Can(PermManageOwn),
	}
}

// authorizeManage checks that the user may act on inst: anyone's with
// instances/manage, their own with instances/manage-own.
func authorizeManage(ctx context.Context, inst *Instance, kind OperationKind) (*User, error) {
	return authorizeChange(ctx, inst, kind.Verb())
}

// authorizeChange checks that the user may manage inst; verb completes
// "… to verb your own instances" in the refusal.
func authorizeChange(ctx context.Context, inst *Instance, verb string) (*User, error) {
	user, err := authorize(ctx, PermReadInstances, "see compute instances")
	if err != nil {
		return nil, err
	}
	if access(user, inst).Manage {
		return user, nil
	}
	if user.ReadOnly {
		return nil, readOnlyRefusal(fmt.Sprintf("%s %s", verb, inst.Name))
	}
	if inst.OwnerID == user.ID {
		return nil, denied(PermManageOwn, fmt.Sprintf("%s your own instances", verb))
	}
	return nil, denied(PermManageAll, fmt.Sprintf("%s %s, which belongs to %s", verb, inst.Name, inst.OwnerName))
}

// record writes the audit event of a state-changing action: succeeded when
// err is nil, denied for a refusal of rights, failed otherwise.
func (s *Service) record(ctx context.Context, action, target string, err error) {
	s.writeAudit(ctx, s.auditEvent(ctx, action, target, err))
}

// auditEvent is the event record writes.
func (s *Service) auditEvent(ctx context.Context, action, target string, err error) *AuditEvent {
	e := &AuditEvent{At: s.now(), Action: action, Target: target, Result: AuditSucceeded, SourceIP: SourceFromContext(ctx)}
	if user := UserFromContext(ctx); user != nil {
		e.UserID, e.UserName, e.UserEmail = user.ID, user.Name, user.Email
	}
	switch ErrorCode(err) {
	case "":
	case EFORBIDDEN, EUNAUTHORIZED:
		e.Result, e.Reason = AuditDenied, ErrorMessage(err)
	default:
		e.Result, e.Reason = AuditFailed, ErrorMessage(err)
		if fields := ErrorFields(err); len(fields) > 0 {
			e.Reason = fieldsText(fields)
		}
	}
	e.clip() // whatever a stranger typed, the log keeps a bounded part of it
	return e
}

// writeAudit adds e to the log, or counts it in its tally when it is a
// refusal or a failure, setting its Count.
func (s *Service) writeAudit(ctx context.Context, e *AuditEvent) {
	if s.Audit == nil {
		return
	}
	add := s.Audit.RecordAudit
	if e.tallied() {
		add = s.Audit.TallyAudit
	}
	if err := add(context.WithoutCancel(ctx), e); err != nil {
		s.logger().ErrorContext(ctx, "record audit event", "action", e.Action, "user", e.UserName, "target", e.Target, "result", e.Result, "reason", e.Reason, "err", err)
		return
	}
	s.metrics().Audited(e, e.tallied())
}

// recordDenial writes an audit event only when a read was refused.
func (s *Service) recordDenial(ctx context.Context, action, target string, err error) {
	if c := ErrorCode(err); c == EFORBIDDEN {
		s.record(ctx, action, target, err)
	}
}

// RecordRefusal audits a request refused before it reached the service,
// such as one without a valid CSRF token.
func (s *Service) RecordRefusal(ctx context.Context, action, target, reason string) {
	s.record(ctx, action, target, Errorf(EFORBIDDEN, "%s", reason))
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
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
