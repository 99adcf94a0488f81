package instancehub

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Role is what a person may do in the workspace. A person may hold several
// roles; they may do what any of them allows.
type Role string

// The roles. The first five are the reference product's; AuditReader lets IT
// reviewers read the audit log without any other right.
const (
	RoleOwner           Role = "Owner"
	RoleContributor     Role = "Contributor"
	RoleComputeOperator Role = "Compute Operator"
	RoleDataScientist   Role = "Data Scientist"
	RoleReader          Role = "Reader"
	RoleAuditReader     Role = "Audit Reader"
)

// Roles lists the roles, most powerful first.
var Roles = []Role{RoleOwner, RoleContributor, RoleComputeOperator, RoleDataScientist, RoleReader, RoleAuditReader}

// ParseRole returns the role named s, case and spaces aside ("data scientist",
// "DataScientist").
func ParseRole(s string) (Role, error) {
	if strings.TrimSpace(s) == "" {
		return "", FieldError("role", "Choose a role.")
	}
	norm := func(s string) string { return strings.ToLower(strings.ReplaceAll(s, " ", "")) }
	for _, r := range Roles {
		if norm(string(r)) == norm(s) {
			return r, nil
		}
	}
	return "", FieldError("role", fmt.Sprintf("There is no role %q. The roles are %s.", Clip(s, MaxResourceNameLength), RoleNames(Roles)))
}

// RoleNames lists roles for a sentence: "Owner, Contributor".
func RoleNames(roles []Role) string {
	names := make([]string, len(roles))
	for i, r := range roles {
		names[i] = string(r)
	}
	return strings.Join(names, ", ")
}

// Description says what a role is for, on the access control page.
func (r Role) Description() string {
	switch r {
	case RoleOwner:
		return "Everything, including role assignments, quotas and the audit log."
	case RoleContributor, RoleComputeOperator:
		return "Creates instances for anyone; starts, stops, restarts and deletes any instance."
	case RoleDataScientist:
		return "Creates instances for themself; starts, stops, restarts and deletes their own."
	case RoleReader:
		return "Sees the instances, their details and the quota."
	case RoleAuditReader:
		return "Reads the audit log; nothing else unless another role allows it."
	}
	return ""
}

// Permission is one thing a role allows.
type Permission string

// The permissions.
const (
	PermReadInstances   Permission = "instances/read"
	PermCreateInstances Permission = "instances/create"
	PermAssignInstances Permission = "instances/assign"
	PermManageOwn       Permission = "instances/manage-own"
	PermManageAll       Permission = "instances/manage"
	PermReadQuota       Permission = "quota/read"
	PermWriteQuota      Permission = "quota/write"
	PermReadRoles       Permission = "roles/read"
	PermWriteRoles      Permission = "roles/write"
	PermReadAudit       Permission = "audit/read"
	// PermWriteSettings sets the workspace's defaults (idle shutdown).
	PermWriteSettings Permission = "settings/write"
	// PermManageTokens sees and revokes everyone's API tokens.
	PermManageTokens Permission = "tokens/manage"
	// PermArchiveAudit moves old events of the audit log out into a file.
	PermArchiveAudit Permission = "audit/archive"
	// PermReadBootLogs reads what an instance's VM printed while it booted,
	// which may tell more of its owner's machine than its page does.
	PermReadBootLogs Permission = "instances/boot-log"
)

// readPermissions are what a read-only token keeps of its user's rights.
var readPermissions = []Permission{PermReadInstances, PermReadQuota, PermReadRoles, PermReadAudit}

// ForReading reports whether p only reads: what a read-only token keeps of
// its user's rights.
func (p Permission) ForReading() bool { return slices.Contains(readPermissions, p) }

var rolePermissions = map[Role][]Permission{
	RoleOwner: {PermReadInstances, PermCreateInstances, PermAssignInstances, PermManageOwn, PermManageAll,
		PermReadQuota, PermWriteQuota, PermReadRoles, PermWriteRoles, PermReadAudit, PermWriteSettings, PermManageTokens, PermArchiveAudit, PermReadBootLogs},
	RoleContributor:     {PermReadInstances, PermCreateInstances, PermAssignInstances, PermManageOwn, PermManageAll, PermReadQuota, PermReadRoles},
	RoleComputeOperator: {PermReadInstances, PermCreateInstances, PermAssignInstances, PermManageOwn, PermManageAll, PermReadQuota, PermReadRoles},
	RoleDataScientist:   {PermReadInstances, PermCreateInstances, PermManageOwn, PermReadQuota, PermReadRoles},
	RoleReader:          {PermReadInstances, PermReadQuota, PermReadRoles},
	RoleAuditReader:     {PermReadAudit},
}

// Allows reports whether role r grants p.
func (r Role) Allows(p Permission) bool { return slices.Contains(rolePermissions[r], p) }

// Grantors lists the roles that grant p.
func (p Permission) Grantors() []Role {
	var roles []Role
	for _, r := range Roles {
		if r.Allows(p) {
			roles = append(roles, r)
		}
	}
	return roles
}

// Can reports whether u holds a role that grants p.
func (u *User) Can(p Permission) bool {
	if u == nil || (u.ReadOnly && !p.ForReading()) {
		return false
	}
	return slices.ContainsFunc(u.Roles, func(r Role) bool { return r.Allows(p) })
}

// HasRole reports whether u holds any role at all.
func (u *User) HasRole() bool { return u != nil && len(u.Roles) > 0 }

// Denied is the refusal of an action for want of p: it names the
// permission and the roles that grant it.
func Denied(p Permission, doing string) *Error {
	return Errorf(EFORBIDDEN, "You need the %s permission to %s. Roles that grant it: %s.", p, doing, RoleNames(p.Grantors()))
}

// RoleAssignment gives a user a role in the workspace.
type RoleAssignment struct {
	ID             int64
	UserID         int64
	UserName       string
	UserEmail      string
	Role           Role
	AssignedByID   int64 // 0 when the command line or single sign-on assigned it
	AssignedByName string
	AssignedAt     time.Time
	// Source says where the assignment came from: "portal", "cli", or "sso"
	// for roles mapped from the identity provider's groups.
	Source string
}

// The sources of role assignments.
const (
	SourcePortal = "portal"
	SourceCLI    = "cli"
	SourceSSO    = "sso"
)

// AccessPage is what the access control page shows.
type AccessPage struct {
	Role        Role // the filter; "" for every role
	Assignments []*RoleAssignment
	// Users are those an Owner may pick from; empty for everyone else.
	Users []*User
	// Failures counts, by email, the failed sign-ins of the accounts that
	// have some: those an Owner may unlock.
	Failures map[string]int
	CanWrite bool
	// Owners is how many Owner assignments exist: the last cannot go.
	Owners int
}
