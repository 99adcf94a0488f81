package instancehub

import (
	"context"
	"fmt"
	"strings"
)

// RoleAssignments lists the workspace's role assignments, of one role when
// role is set.
func (s *Service) RoleAssignments(ctx context.Context, role Role) (*AccessPage, error) {
	user, err := authorize(ctx, PermReadRoles, "see role assignments")
	if err != nil {
		s.recordDenial(ctx, "role.list", string(role), err)
		return nil, err
	}
	page := &AccessPage{Role: role, CanWrite: user.Can(PermWriteRoles)}
	if page.Assignments, err = s.Roles.FindRoleAssignments(ctx, role); err != nil {
		return nil, err
	}
	if page.CanWrite {
		if page.Users, err = s.Users.FindUsers(ctx, "", 0); err != nil {
			return nil, err
		}
		if page.Owners, err = s.countOwners(ctx, role, page.Assignments); err != nil {
			return nil, err
		}
	}
	return page, nil
}

// countOwners counts the Owner assignments, from the list already read when
// it holds them all.
func (s *Service) countOwners(ctx context.Context, role Role, listed []*RoleAssignment) (int, error) {
	if role != "" && role != RoleOwner {
		owners, err := s.Roles.FindRoleAssignments(ctx, RoleOwner)
		return len(owners), err
	}
	n := 0
	for _, a := range listed {
		if a.Role == RoleOwner {
			n++
		}
	}
	return n, nil
}

// AssignRole gives the user with email the role, as the signed-in Owner.
func (s *Service) AssignRole(ctx context.Context, email string, role Role) (a *RoleAssignment, err error) {
	email = strings.TrimSpace(email)
	defer func() { s.record(ctx, "role.assign", fmt.Sprintf("%s: %s", email, role), err) }()
	by, err := authorize(ctx, PermWriteRoles, "assign roles")
	if err != nil {
		return nil, err
	}
	return s.assignRole(ctx, email, role, &RoleAssignment{AssignedByID: by.ID, AssignedByName: by.Name, Source: SourcePortal})
}

// AssignRoleFromCLI gives a role from the command line, which is trusted:
// it is how the first Owner of an SSO-only portal, or a locked-out one, is
// made.
func (s *Service) AssignRoleFromCLI(ctx context.Context, email string, role Role) (a *RoleAssignment, err error) {
	defer func() { s.record(ctx, "role.assign", fmt.Sprintf("%s: %s (command line)", email, role), err) }()
	return s.assignRole(ctx, strings.TrimSpace(email), role, &RoleAssignment{Source: SourceCLI})
}

func (s *Service) assignRole(ctx context.Context, email string, role Role, a *RoleAssignment) (*RoleAssignment, error) {
	if _, err := ParseRole(string(role)); err != nil {
		return nil, err
	}
	if err := tooLong("email", "An email address", email, MaxEmailLength); err != nil {
		return nil, err
	}
	user, err := s.Users.FindUserByEmail(ctx, email)
	if ErrorCode(err) == ENOTFOUND {
		return nil, FieldError("email", fmt.Sprintf("There is no user with the email %s. People appear here once they have signed in, or once an account is added for them.", email))
	} else if err != nil {
		return nil, err
	}
	a.UserID, a.UserName, a.UserEmail, a.Role, a.AssignedAt = user.ID, user.Name, user.Email, role, s.now()
	if err := s.Roles.AssignRole(ctx, a); err != nil {
		if ErrorCode(err) == ECONFLICT {
			return nil, FieldError("role", fmt.Sprintf("%s already has the %s role.", user.Name, role))
		}
		return nil, err
	}
	return a, nil
}

// RemoveRoleAssignment takes a role back. The last Owner cannot be removed.
// A user left without any role is signed out everywhere.
func (s *Service) RemoveRoleAssignment(ctx context.Context, id int64) (a *RoleAssignment, err error) {
	target := fmt.Sprintf("assignment %d", id)
	defer func() {
		if a != nil {
			target = fmt.Sprintf("%s: %s", a.UserEmail, a.Role)
		}
		s.record(ctx, "role.remove", target, err)
	}()
	if _, err := authorize(ctx, PermWriteRoles, "remove role assignments"); err != nil {
		return nil, err
	}
	if a, err = s.Roles.RemoveRoleAssignment(ctx, id); err != nil {
		return nil, err
	}
	roles, err := s.Roles.UserRoles(ctx, a.UserID)
	if err != nil {
		return a, err
	}
	if len(roles) == 0 {
		if err := s.Sessions.DeleteUserSessions(ctx, a.UserID); err != nil {
			return a, err
		}
	}
	return a, nil
}

// AuditEvents returns a page of the audit log (page from 1), or every
// matching event when page is 0; an export should call ExportAudit, which
// streams them instead. Reading the log is itself
// audited: reviewers want to know who looked, and who took a copy.
func (s *Service) AuditEvents(ctx context.Context, f AuditFilter, page int) (p *AuditPage, err error) {
	action := "audit.read"
	if page == 0 {
		action = "audit.export"
	}
	f = f.bound()
	defer func() { s.record(ctx, action, auditFilterText(f), err) }()
	if _, err := authorize(ctx, PermReadAudit, "read the audit log"); err != nil {
		return nil, err
	}
	f.Offset, f.Limit = 0, 0
	if page > 0 {
		f.Offset, f.Limit = (page-1)*AuditPageSize, AuditPageSize
	}
	events, total, err := s.Audit.FindAuditEvents(ctx, f)
	if err != nil {
		return nil, err
	}
	return &AuditPage{Filter: f, Events: events, Total: total, Page: page, Pages: max(1, (total+AuditPageSize-1)/AuditPageSize)}, nil
}

// auditFilterText describes a filter for the audit log's own entries.
func auditFilterText(f AuditFilter) string {
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
