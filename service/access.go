package service

import (
	"context"
	"fmt"
	"strings"

	"github.com/instancehub/instancehub"
)

// RoleAssignments lists the workspace's role assignments, of one role when
// role is set.
func (s *Service) RoleAssignments(ctx context.Context, role instancehub.Role) (*instancehub.AccessPage, error) {
	user, err := authorize(ctx, instancehub.PermReadRoles, "see role assignments")
	if err != nil {
		s.recordDenial(ctx, "role.list", string(role), err)
		return nil, err
	}
	page := &instancehub.AccessPage{Role: role, CanWrite: user.Can(instancehub.PermWriteRoles)}
	if page.Assignments, err = s.Roles.FindRoleAssignments(ctx, role); err != nil {
		return nil, err
	}
	if page.CanWrite {
		if page.Users, err = s.Users.FindUsers(ctx, "", 0); err != nil {
			return nil, err
		}
		if page.Failures, err = s.Throttle.CountLoginFailures(ctx); err != nil {
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
func (s *Service) countOwners(ctx context.Context, role instancehub.Role, listed []*instancehub.RoleAssignment) (int, error) {
	if role != "" && role != instancehub.RoleOwner {
		owners, err := s.Roles.FindRoleAssignments(ctx, instancehub.RoleOwner)
		return len(owners), err
	}
	n := 0
	for _, a := range listed {
		if a.Role == instancehub.RoleOwner {
			n++
		}
	}
	return n, nil
}

// AssignRole gives the user with email the role, as the signed-in Owner.
func (s *Service) AssignRole(ctx context.Context, email string, role instancehub.Role) (a *instancehub.RoleAssignment, err error) {
	email = strings.TrimSpace(email)
	defer func() { s.record(ctx, "role.assign", fmt.Sprintf("%s: %s", email, role), err) }()
	by, err := authorize(ctx, instancehub.PermWriteRoles, "assign roles")
	if err != nil {
		return nil, err
	}
	return s.assignRole(ctx, email, role, &instancehub.RoleAssignment{AssignedByID: by.ID, AssignedByName: by.Name, Source: instancehub.SourcePortal})
}

// AssignRoleFromCLI gives a role from the command line, which is trusted:
// it is how the first Owner of an SSO-only portal, or a locked-out one, is
// made.
func (s *Service) AssignRoleFromCLI(ctx context.Context, email string, role instancehub.Role) (a *instancehub.RoleAssignment, err error) {
	defer func() { s.record(ctx, "role.assign", fmt.Sprintf("%s: %s (command line)", email, role), err) }()
	return s.assignRole(ctx, strings.TrimSpace(email), role, &instancehub.RoleAssignment{Source: instancehub.SourceCLI})
}

func (s *Service) assignRole(ctx context.Context, email string, role instancehub.Role, a *instancehub.RoleAssignment) (*instancehub.RoleAssignment, error) {
	if _, err := instancehub.ParseRole(string(role)); err != nil {
		return nil, err
	}
	if err := instancehub.TooLong("email", "An email address", email, instancehub.MaxEmailLength); err != nil {
		return nil, err
	}
	user, err := s.Users.FindUserByEmail(ctx, email)
	if instancehub.ErrorCode(err) == instancehub.ENOTFOUND {
		return nil, instancehub.FieldError("email", fmt.Sprintf("There is no user with the email %s. People appear here once they have signed in, or once an account is added for them.", email))
	} else if err != nil {
		return nil, err
	}
	a.UserID, a.UserName, a.UserEmail, a.Role, a.AssignedAt = user.ID, user.Name, user.Email, role, s.now()
	if err := s.Roles.AssignRole(ctx, a); err != nil {
		if instancehub.ErrorCode(err) == instancehub.ECONFLICT {
			return nil, instancehub.FieldError("role", fmt.Sprintf("%s already has the %s role.", user.Name, role))
		}
		return nil, err
	}
	return a, nil
}

// RemoveRoleAssignment takes a role back. The last Owner cannot be removed.
// A user left without any role is signed out everywhere.
func (s *Service) RemoveRoleAssignment(ctx context.Context, id int64) (a *instancehub.RoleAssignment, err error) {
	target := fmt.Sprintf("assignment %d", id)
	defer func() {
		if a != nil {
			target = fmt.Sprintf("%s: %s", a.UserEmail, a.Role)
		}
		s.record(ctx, "role.remove", target, err)
	}()
	if _, err := authorize(ctx, instancehub.PermWriteRoles, "remove role assignments"); err != nil {
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

// RoleAssignmentToRemove returns the assignment with id, for the page that
// asks before removing it: Owners only, as the removal is. EFORBIDDEN
// without roles/write; ENOTFOUND for no such assignment.
func (s *Service) RoleAssignmentToRemove(ctx context.Context, id int64) (*instancehub.RoleAssignment, error) {
	if _, err := authorize(ctx, instancehub.PermWriteRoles, "remove role assignments"); err != nil {
		return nil, err
	}
	all, err := s.Roles.FindRoleAssignments(ctx, "")
	if err != nil {
		return nil, err
	}
	for _, a := range all {
		if a.ID == id {
			return a, nil
		}
	}
	return nil, instancehub.Errorf(instancehub.ENOTFOUND, "Role assignment not found.")
}
