package instancehub

import (
	"context"
	"time"
)

// InstanceSort orders a list of instances.
type InstanceSort string

// The orders of the instance list.
const (
	SortNameAsc     InstanceSort = "name"
	SortNameDesc    InstanceSort = "-name"
	SortCreatedAsc  InstanceSort = "created"
	SortCreatedDesc InstanceSort = "-created"
)

// ParseInstanceSort returns the sort named s, newest first by default.
func ParseInstanceSort(s string) InstanceSort {
	switch InstanceSort(s) {
	case SortNameAsc, SortNameDesc, SortCreatedAsc, SortCreatedDesc:
		return InstanceSort(s)
	}
	return SortCreatedDesc
}

// InstanceFilter selects a page of live instances (every state but Deleted).
type InstanceFilter struct {
	OwnerID int64  // only this user's instances; 0 for everyone's
	Search  string // a case-insensitive part of the name
	Sort    InstanceSort
	Offset  int
	Limit   int // 0 for all
	// Brief reads only what the list's rows show, and the service needs
	// to decorate them (access, image, next stop): not the SSH key and
	// port, the network and addresses, the application secret, the
	// owner's email, the update time, the description, tags, identities,
	// idempotency key nor setup scripts, which stay empty. A list page of
	// 100,000 instances spent half its CPU reading columns.
	Brief bool
}

// SyncState is what the sync compares of an instance with Azure: its
// power state, which Azure's list of VMs tells (not its addresses, which
// only its network interfaces do). A sync reads one for every instance.
type SyncState struct {
	ID      int64
	Name    string
	Version int64
	State   State
	// Busy is set while an operation is in progress on the instance.
	Busy bool
}

// InstanceUpdate is what an operation or a sync learned of an instance.
type InstanceUpdate struct {
	State     State
	PrivateIP string
	PublicIP  string
	Image     string // kept as it was when empty
}

// InstanceStore keeps instances and their operations.
type InstanceStore interface {
	// RecordSetupRun keeps the last run of an instance's setup script in
	// place of the one before, its log cut to MaxSetupLogLength.
	RecordSetupRun(ctx context.Context, id int64, r *SetupResult) error
	// SetupRun returns the last run of an instance's setup script, nil
	// when none ran.
	SetupRun(ctx context.Context, id int64) (*SetupResult, error)
	// CreateInstance inserts inst, in state Creating, with its Create
	// operation op, in one transaction; it sets their IDs. ECONFLICT when a
	// live instance has the same name, compared case-insensitively; EQUOTA
	// when it would exceed a workspace limit (checked in the transaction).
	CreateInstance(ctx context.Context, inst *Instance, op *Operation) error
	// AdoptInstance inserts an instance whose virtual machine outlived its
	// record, in the state Azure reports and with no operation; workspace
	// limits do not apply, since the VM exists already. ECONFLICT when a
	// live instance has the same name.
	AdoptInstance(ctx context.Context, inst *Instance) error
	// FindInstanceByName returns the live instance with that name (compared
	// case-insensitively) with its last operation. ENOTFOUND if there is none.
	FindInstanceByName(ctx context.Context, name string) (*Instance, error)
	// FindDeletedInstanceByName returns the instance with that name
	// (compared case-insensitively) deleted last, with its last operation,
	// its Delete. ENOTFOUND if none of that name was deleted.
	FindDeletedInstanceByName(ctx context.Context, name string) (*Instance, error)
	// FindInstanceByIdempotencyKey returns the instance, deleted or not,
	// that userID created with that Idempotency-Key. ENOTFOUND if there is
	// none.
	FindInstanceByIdempotencyKey(ctx context.Context, userID int64, key string) (*Instance, error)
	// FindInstanceByID returns an instance, deleted ones included. ENOTFOUND
	// if there is none.
	FindInstanceByID(ctx context.Context, id int64) (*Instance, error)
	// FindInstances returns a page of live instances with their last
	// operations, and how many match the filter in all.
	FindInstances(ctx context.Context, filter InstanceFilter) ([]*Instance, int, error)

	// BeginOperation records op as InProgress and moves its instance to
	// op.Kind.Progressive(), in one transaction, provided the instance is in
	// one of op.Kind.From() and has no operation in progress. ECONFLICT
	// otherwise; ENOTFOUND when the instance does not exist or is deleted;
	// EQUOTA when a Start would exceed a workspace limit. When op carries an
	// AppSecret, it becomes the instance's in the same transaction.
	BeginOperation(ctx context.Context, op *Operation) error
	// SaveOperationProgress stores op's current step and resume token.
	// ENOTFOUND for an unknown operation.
	SaveOperationProgress(ctx context.Context, op *Operation) error
	// FinishOperation records op's status, error, step, resume token and end
	// time and applies update to its instance, in one transaction. ECONFLICT
	// when op already finished; ENOTFOUND for an unknown operation.
	FinishOperation(ctx context.Context, op *Operation, update InstanceUpdate) error
	// FindOperation returns an operation, of a deleted instance too.
	// ENOTFOUND if there is none.
	FindOperation(ctx context.Context, id int64) (*Operation, error)
	// FindOperations lists an instance's operations, newest first.
	FindOperations(ctx context.Context, instanceID int64, limit int) ([]*Operation, error)

	// EachSyncState calls fn with what the sync compares of every live
	// instance, in one query: the sync keeps of each only what it needs.
	// fn must not use the store: the query is open while it runs.
	EachSyncState(ctx context.Context, fn func(SyncState)) error
	// ClaimLapsedOperations gives owner, for lease, every operation in
	// progress whose lease lapsed (with all, every one), and returns
	// their IDs; each goes to one claimer. Leases are kept by the
	// database's clock, which every replica shares, so that one whose own
	// clock jumps takes nothing over early, nor holds anything late.
	ClaimLapsedOperations(ctx context.Context, owner string, lease time.Duration, all bool) ([]int64, error)
	// RenewOperations extends owner's leases of ids by lease from now, and
	// returns those it still held.
	RenewOperations(ctx context.Context, owner string, ids []int64, lease time.Duration) ([]int64, error)
	// ReleaseOperations lets go of owner's leases, for another portal to
	// take over at once.
	ReleaseOperations(ctx context.Context, owner string) error
	// AcquireLease takes or renews the lease name for owner, for lease
	// from now by the database's clock, and reports whether owner holds it.
	AcquireLease(ctx context.Context, name, owner string, lease time.Duration) (bool, error)
	// EachIdleClock calls fn with the idle clock of every live instance,
	// for the scheduler's tick. fn must not use the store.
	EachIdleClock(ctx context.Context, fn func(IdleClock)) error
	// SyncInstance sets the state of a live instance that is still at
	// version (nothing changed it since it was read) and has no operation in
	// progress, and reports whether anything changed.
	SyncInstance(ctx context.Context, id, version int64, state State) (bool, error)
	// SetSSHKey records the SSH public key Azure added to a live instance.
	// ENOTFOUND when there is no such live instance.
	SetSSHKey(ctx context.Context, id int64, key string) error
	// RecordActivity sets the last activity of the live instance name to at,
	// unless it is later already. It leaves the instance's version alone.
	// Nothing happens for an unknown name.
	RecordActivity(ctx context.Context, name string, at time.Time) error
}

// ErrLeaseLost is what the store answers a replica that writes to an
// operation another replica has taken over: it stops driving it.
var ErrLeaseLost = Errorf(ECONFLICT, "Another portal has taken over the operation.")

// UserStore keeps the people who may sign in.
type UserStore interface {
	// CreateUser inserts u and sets its ID. ECONFLICT when the email is taken
	// (compared case-insensitively).
	CreateUser(ctx context.Context, u *User) error
	// FindUserByID returns a user. ENOTFOUND if there is none.
	FindUserByID(ctx context.Context, id int64) (*User, error)
	// FindUserByEmail returns a user, comparing emails case-insensitively.
	// ENOTFOUND if there is none.
	FindUserByEmail(ctx context.Context, email string) (*User, error)
	// FindUserBySubject returns the user an identity provider knows by
	// subject. ENOTFOUND if there is none.
	FindUserBySubject(ctx context.Context, subject string) (*User, error)
	// FindUserByObjectID returns the user whose single sign-on subject is
	// id or ends in it after the provider's part ("entra:<tenant>:<id>",
	// "<issuer>#<id>"): the object ID of az ml's create_on_behalf_of.
	// ENOTFOUND if there is none; ECONFLICT if several match.
	FindUserByObjectID(ctx context.Context, id string) (*User, error)
	// UpdateUser saves u's email, name and subject. ECONFLICT when the email
	// or subject belongs to another user.
	UpdateUser(ctx context.Context, u *User) error
	// FindUsers lists users by name: all when query is empty, else those
	// whose name or email contains it; at most limit (0 for all). Each
	// comes with its last sign-in and how many live instances it owns.
	FindUsers(ctx context.Context, query string, limit int) ([]*User, error)
	// CountUsers returns how many users exist.
	CountUsers(ctx context.Context) (int, error)
	// CreatePasswordLink keeps a link to set a password.
	CreatePasswordLink(ctx context.Context, l *PasswordLink) error
	// UsePasswordLink sets the password hash of the link's user and uses
	// the link up, in one transaction, provided it is unused and expires
	// after now; it returns the user. ENOTFOUND otherwise.
	UsePasswordLink(ctx context.Context, tokenHash string, now time.Time, passwordHash string) (*User, error)
	// PasswordLinkWorks tells whether a link is unused and expires after now.
	PasswordLinkWorks(ctx context.Context, tokenHash string, now time.Time) (bool, error)
	// SetUserDisabled disables the user at at and, in the same
	// transaction, ends their sessions and their links to set a password
	// and revokes their tokens that work at at, returning how many it
	// revoked; or it enables them again (at zero), which brings none of
	// those back. ENOTFOUND for an unknown user.
	SetUserDisabled(ctx context.Context, id int64, at time.Time) (revoked int, err error)
}

// LoginCounts are the failed sign-ins, and the attempts under way, within
// the window that an attempt to sign in is judged by. Each stops at
// MaxLoginCount.
type LoginCounts struct {
	// Pair counts those at the attempt's account from its address;
	// Account, at its account from every address; Address, from its
	// address at every account.
	Pair, Account, Address int
}

// LoginThrottle counts failed sign-ins, per account, per address, and per
// account and address together, to bound guessing.
type LoginThrottle interface {
	// ReserveLoginAttempt drops the attempts before since, counts those
	// the attempt to sign in to email from addr is judged by and, when
	// admit (nil admits all) returns nil for them, records the attempt as
	// under way at t, in the same transaction, so that attempts sent at
	// once are counted one by one. It returns the attempt's ID and the
	// counts, or admit's error, recording nothing then.
	ReserveLoginAttempt(ctx context.Context, email, addr string, t, since time.Time, admit func(LoginCounts) error) (id int64, counts LoginCounts, err error)
	// FailLoginAttempt records an attempt under way as a failure: its
	// password was wrong.
	FailLoginAttempt(ctx context.Context, id int64) error
	// ForgetLoginAttempt takes back an attempt under way that did not fail:
	// its password was right, or it ended neither right nor wrong (the
	// request was cancelled, the database failed).
	ForgetLoginAttempt(ctx context.Context, id int64) error
	// ClearLoginFailures forgets an account's failures from addr, or from
	// every address when addr is "", and returns how many it forgot.
	ClearLoginFailures(ctx context.Context, email, addr string) (int, error)
	// CountLoginFailures counts, per account's email, the failures that
	// ClearLoginFailures would forget; accounts with none are left out.
	CountLoginFailures(ctx context.Context) (map[string]int, error)
}

// SessionStore keeps signed-in browsers.
type SessionStore interface {
	// CreateSession inserts s.
	CreateSession(ctx context.Context, s *Session) error
	// FindSession returns the unexpired session with that token hash, with
	// its user and the user's roles. ENOTFOUND if there is none.
	FindSession(ctx context.Context, tokenHash string, now time.Time) (*Session, error)
	// TouchSession records that the session was used at t.
	TouchSession(ctx context.Context, tokenHash string, t time.Time) error
	// DeleteSession signs a browser out.
	DeleteSession(ctx context.Context, tokenHash string) error
	// DeleteUserSessions signs a user out everywhere.
	DeleteUserSessions(ctx context.Context, userID int64) error
	// DeleteExpiredSessions removes sessions that expired at or before now
	// and returns how many.
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error)
}

// AuditStore keeps the audit log.
type AuditStore interface {
	// RecordAudit adds e, setting its ID; its Count is 1.
	RecordAudit(ctx context.Context, e *AuditEvent) error
	// TallyAudit counts e in the event of the same minute, action, result,
	// user and source that TallyAudit added before, or adds e when there
	// is none; it sets e's ID and Count to those of the event counted in.
	// The event keeps the target and reason of the first it counted.
	TallyAudit(ctx context.Context, e *AuditEvent) error
	// FindAuditEvents returns the matching events, newest first, and how
	// many match in all.
	FindAuditEvents(ctx context.Context, f AuditFilter) ([]*AuditEvent, int, error)
	// WalkAuditEvents calls fn with each matching event, newest first,
	// reading them one at a time, and stops at fn's first error, which it
	// returns. Offset and Limit are ignored.
	WalkAuditEvents(ctx context.Context, f AuditFilter, fn func(*AuditEvent) error) error
	AuditArchiveStore
}

// AuditArchiveStore moves old events of the audit log out, as AuditArchive
// says.
type AuditArchiveStore interface {
	// AuditArchivable says how many events the log holds before before,
	// the oldest and newest, and the highest ID.
	AuditArchivable(ctx context.Context, before time.Time) (AuditSpan, error)
	// WalkAuditArchivable calls fn with each event before before whose ID
	// is at most lastID, oldest first (by time, then ID), and stops at fn's
	// first error, which it returns.
	WalkAuditArchivable(ctx context.Context, before time.Time, lastID int64, fn func(*AuditEvent) error) error
	// NthOldestAudit returns the time of the event with n older ones (by
	// time, then ID); the zero time when the log holds no more than n.
	NthOldestAudit(ctx context.Context, n int) (time.Time, error)
	// ArchiveAudit removes the events a covers (before a.Before, IDs up to
	// a.LastID), records a, setting its ID, and records e, the archive's
	// own audit event, in one transaction. The events are read again in it
	// and written as an archive file is (AuditArchiveWriter): unless that
	// gives a.Count events and a.Digest, nothing changes (ECONFLICT).
	ArchiveAudit(ctx context.Context, a *AuditArchive, e *AuditEvent) error
	// AuditArchives lists the archives, newest first.
	AuditArchives(ctx context.Context) ([]*AuditArchive, error)
	// FindAuditArchive returns one archive. ENOTFOUND when there is none.
	FindAuditArchive(ctx context.Context, id int64) (*AuditArchive, error)
}

// AutomationStore keeps what runs instances without their users: schedules,
// the record of their firings, idle shutdown, the workspace's defaults, and
// the notices waiting for users.
type AutomationStore interface {
	// AddSchedule inserts s and sets its ID and times. ECONFLICT when its
	// instance has MaxSchedules already (counted in the transaction);
	// ENOTFOUND when the instance does not exist or is deleted.
	AddSchedule(ctx context.Context, s *Schedule) error
	// UpdateSchedule saves s's action, times and zone, and sets UpdatedAt.
	// ENOTFOUND when no schedule of s.InstanceID has s.ID.
	UpdateSchedule(ctx context.Context, s *Schedule) error
	// DeleteSchedule removes a schedule of an instance. ENOTFOUND when it
	// has none with that ID.
	DeleteSchedule(ctx context.Context, instanceID, id int64) error
	// FindSchedules lists the schedules of the given instances, or of every
	// live instance when none is given, by instance then ID, each with the
	// newest occurrence it fired for.
	FindSchedules(ctx context.Context, instanceIDs ...int64) ([]*Schedule, error)
	// ClaimFiring records f as claimed. ECONFLICT when the schedule's
	// occurrence is recorded already: another portal, or this one before
	// a restart, fired it.
	ClaimFiring(ctx context.Context, f *Firing) error
	// FinishFiring records a claimed firing's result and reason.
	FinishFiring(ctx context.Context, f *Firing) error

	// SetIdleShutdown saves an instance's idle time (0 for off) and the
	// time it changed, which restarts its idle clock. ENOTFOUND for an
	// unknown or deleted instance.
	SetIdleShutdown(ctx context.Context, instanceID int64, idle time.Duration, at time.Time) error
	// KeepRunning holds an instance's automatic stops until until.
	// ENOTFOUND for an unknown or deleted instance.
	KeepRunning(ctx context.Context, instanceID int64, until time.Time) error

	// WorkspaceSettings returns the workspace's defaults, or
	// DefaultWorkspaceSettings when none were saved.
	WorkspaceSettings(ctx context.Context) (WorkspaceSettings, error)
	// SaveWorkspaceSettings saves the workspace's defaults.
	SaveWorkspaceSettings(ctx context.Context, w WorkspaceSettings) error

	// RecordFailedOperation adds op, already ended Failed, to its instance's
	// history without changing the instance: an automatic operation refused
	// before it began (a scheduled start over quota).
	RecordFailedOperation(ctx context.Context, op *Operation) error
	// AddUserNotice keeps a message for a user's next visit.
	AddUserNotice(ctx context.Context, userID int64, message string, at time.Time) error
	// TakeUserNotices returns a user's waiting messages, oldest first, and
	// forgets them.
	TakeUserNotices(ctx context.Context, userID int64) ([]string, error)
}

// QuotaStore keeps the workspace's vCPU limits and finds what holds them.
// CreateInstance and BeginOperation (for Start) check the limits in the
// same transaction as the change, so concurrent requests can never together
// exceed one.
type QuotaStore interface {
	// WorkspaceQuota returns a region's limits and the instances that hold
	// quota in it, grouped by family too (ByFamily, GroupHolders). The
	// holders may be shared with other callers: read them, never change
	// them.
	WorkspaceQuota(ctx context.Context, region string) (*WorkspaceQuota, error)
	// WorkspaceUsage is WorkspaceQuota for a create's checks: the limits and
	// the vCPUs held, with only the holders still being created, so that
	// its cost does not grow with the instances there.
	WorkspaceUsage(ctx context.Context, region string) (*WorkspaceQuota, error)
	// SetWorkspaceLimit sets a family's limit (TotalRegionalVCPUs for the
	// total), or removes it when limit is negative.
	SetWorkspaceLimit(ctx context.Context, region, family string, limit int) error
}

// RoleStore keeps role assignments.
type RoleStore interface {
	// AssignRole inserts a, setting its ID. ECONFLICT when the user already
	// holds the role; ENOTFOUND when the user does not exist.
	AssignRole(ctx context.Context, a *RoleAssignment) error
	// RemoveRoleAssignment deletes an assignment and returns it. ECONFLICT
	// when it is the last Owner assignment; ENOTFOUND when there is none.
	RemoveRoleAssignment(ctx context.Context, id int64) (*RoleAssignment, error)
	// FindRoleAssignments lists assignments, with user names, by user name;
	// only those of role when it is set.
	FindRoleAssignments(ctx context.Context, role Role) ([]*RoleAssignment, error)
	// UserRoles lists the roles of a user.
	UserRoles(ctx context.Context, userID int64) ([]Role, error)
}

// RunningTimeStore sums the running time the store recorded: every change
// of an instance's state, by whichever writer, opens or closes an interval
// of running time in the same transaction.
type RunningTimeStore interface {
	// RunningTime sums how long the instance ran until until, in all and
	// since since, an interval still open counting until until.
	RunningTime(ctx context.Context, instanceID int64, since, until time.Time) (total, sinceThen time.Duration, err error)
	// RunningTimeBySize sums, per VM size, how long the instances of region,
	// deleted ones included, ran between since and until.
	RunningTimeBySize(ctx context.Context, region string, since, until time.Time) ([]SizeRunningTime, error)
}

// TokenStore keeps personal access tokens.
type TokenStore interface {
	// CreateToken inserts t and sets its ID. ECONFLICT when the user has a
	// live token of that name already (names compared case-insensitively),
	// or MaxTokensPerUser unrevoked, unexpired ones at now — checked in the
	// transaction.
	CreateToken(ctx context.Context, t *APIToken, now time.Time) error
	// FindToken returns the token with that hash, with its user and the
	// user's roles, provided it is unrevoked, expires after now and its user
	// is not disabled. ENOTFOUND otherwise.
	FindToken(ctx context.Context, hash string, now time.Time) (*APIToken, error)
	// FindTokenByID returns a token. ENOTFOUND when there is none.
	FindTokenByID(ctx context.Context, id int64) (*APIToken, error)
	// FindTokens lists the tokens of a user, or everyone's when userID is 0,
	// newest first, revoked and expired ones of the last year included.
	FindTokens(ctx context.Context, userID int64, now time.Time) ([]*APIToken, error)
	// TouchToken records that a token was used at t, and reports whether it
	// is the token's first use (checked and set in one statement).
	TouchToken(ctx context.Context, id int64, t time.Time) (first bool, err error)
	// RevokeToken revokes a token at t. ENOTFOUND when there is no such
	// unrevoked token.
	RevokeToken(ctx context.Context, id int64, t time.Time) error
}
