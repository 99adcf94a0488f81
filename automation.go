package instancehub

import (
	"context"
	"time"
)

// Firing is one occurrence of a schedule, recorded so that it fires once:
// across restarts, and across portals sharing a database.
type Firing struct {
	ScheduleID int64
	Occurrence time.Time // the time it was due, as the schedule computes it
	FiredAt    time.Time
	Result     string // FiringClaimed, then FiringStarted, FiringSkipped or FiringFailed
	Reason     string // why it was skipped or failed
}

// The results of a firing.
const (
	FiringClaimed = "claimed" // recorded, its operation not yet submitted
	FiringStarted = "started" // its operation began
	FiringSkipped = "skipped" // the state did not allow the action
	FiringFailed  = "failed"  // the action was refused (quota)
)

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
