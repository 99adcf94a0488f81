package instancehub

import (
	"fmt"
	"time"
)

// The bounds of idle shutdown, the reference product's: 15 minutes to 3
// days without activity.
const (
	MinIdleShutdown = 15 * time.Minute
	MaxIdleShutdown = 3 * 24 * time.Hour
)

// DefaultIdleShutdown is the time a new workspace proposes.
const DefaultIdleShutdown = 60 * time.Minute

// WorkspaceSettings are the defaults Owners choose for the workspace.
type WorkspaceSettings struct {
	// IdleShutdown is the create form's proposal: on or off, and after
	// how long.
	IdleShutdownOn bool
	IdleShutdown   time.Duration
}

// DefaultWorkspaceSettings are a new workspace's: idle shutdown on, after
// an hour, since forgotten instances are the largest waste.
var DefaultWorkspaceSettings = WorkspaceSettings{IdleShutdownOn: true, IdleShutdown: DefaultIdleShutdown}

// ParseIdleShutdown reads the "Shut down after" field (minutes) when on is
// set; off is 0. EINVALID outside the bounds.
func ParseIdleShutdown(on bool, minutes string) (time.Duration, error) {
	if !on {
		return 0, nil
	}
	var n int
	if _, err := fmt.Sscan(minutes, &n); err != nil || len(minutes) > 8 {
		return 0, FieldError("idle_minutes", "Give the idle time in minutes, from 15 to 4320 (3 days).")
	}
	d := time.Duration(n) * time.Minute
	if d < MinIdleShutdown || d > MaxIdleShutdown {
		return 0, FieldError("idle_minutes", fmt.Sprintf("Idle shutdown takes from 15 minutes to 3 days (4320 minutes); %d minutes is outside.", n))
	}
	return d, nil
}

// IdleText says how long an idle time is, in the largest whole unit.
func IdleText(d time.Duration) string {
	switch {
	case d == 0:
		return "off"
	case d%(24*time.Hour) == 0:
		return Plural(int(d/(24*time.Hour)), "day")
	case d%time.Hour == 0:
		return Plural(int(d/time.Hour), "hour")
	}
	return Plural(int(d/time.Minute), "minute")
}

// Plural counts n of unit in words: "1 minute", "3 minutes".
func Plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// IdleClock is what idle shutdown and the schedules need of an instance:
// the scheduler reads it of every live instance each minute, and whole
// instances only of those due, so that a tick over thousands holds little.
type IdleClock struct {
	ID               int64
	State            State
	IdleShutdown     time.Duration
	UpdatedAt        time.Time
	LastActivity     time.Time
	IdleChangedAt    time.Time
	KeepRunningUntil time.Time
	// Busy is set while an operation is in progress; LastFinished is when
	// the last operation ended (zero while it runs, or if there is none).
	Busy         bool
	LastFinished time.Time
}

// Clock is inst's IdleClock.
func (inst *Instance) Clock() IdleClock {
	c := IdleClock{ID: inst.ID, State: inst.State, IdleShutdown: inst.IdleShutdown, UpdatedAt: inst.UpdatedAt,
		LastActivity: inst.LastActivity, IdleChangedAt: inst.IdleChangedAt, KeepRunningUntil: inst.KeepRunningUntil}
	if op := inst.LastOperation; op != nil {
		c.Busy, c.LastFinished = op.Status == StatusInProgress, op.FinishedAt
	}
	return c
}

// IdleSince is when inst's idle clock started: its last activity, the
// last change of its idle setting, or the last change of the instance
// (becoming Running among them), whichever is latest.
func IdleSince(inst *Instance) time.Time { return inst.Clock().IdleSince() }

// IdleSince is when the idle clock started (see the function IdleSince).
func (c IdleClock) IdleSince() time.Time {
	return latest(c.UpdatedAt, c.LastActivity, c.IdleChangedAt, c.LastFinished)
}

// IdleStopAt is when idle shutdown will stop inst if nothing happens, or
// the zero time when it will not (off, or not running).
func IdleStopAt(inst *Instance) time.Time { return inst.Clock().IdleStopAt() }

// IdleStopAt is when idle shutdown will stop the instance (see the
// function IdleStopAt).
func (c IdleClock) IdleStopAt() time.Time {
	if c.IdleShutdown == 0 || c.State != StateRunning {
		return time.Time{}
	}
	return latest(c.IdleSince().Add(c.IdleShutdown), c.KeepRunningUntil)
}

// NoticeBefore is how long before an automatic stop the instance's row and
// details page say when and why it will stop.
const NoticeBefore = 15 * time.Minute

// KeepRunningFor is how long "Keep running" postpones an automatic stop.
const KeepRunningFor = time.Hour

// AutoStop is an automatic stop on its way: when, and why.
type AutoStop struct {
	At      time.Time
	Trigger Trigger // TriggerSchedule or TriggerIdleShutdown
	Reason  string  // "idle shutdown after 1 hour", "schedule 2: Stop at 18:00…"
	Source  string  // what makes it, in short: "idle shutdown", "schedule 2"
	// Postponed is set once the owner kept the instance running: it can be
	// postponed only once.
	Postponed bool
}

// IdleDue reports whether idle shutdown should stop the instance now.
func IdleDue(c IdleClock, now time.Time) bool {
	stopAt := c.IdleStopAt()
	return !stopAt.IsZero() && !now.Before(stopAt) && !c.Busy
}

// NextStop is the first automatic stop of inst, by idle shutdown or by
// one of its stop schedules, however far off, or nil: what the list's
// "Stops at" column shows.
func NextStop(inst *Instance, schedules []*Schedule, now time.Time) *AutoStop {
	var next *AutoStop
	consider := func(at time.Time, trigger Trigger, source, reason string) {
		if at.IsZero() || next != nil && !at.Before(next.At) {
			return
		}
		next = &AutoStop{At: at, Trigger: trigger, Source: source, Reason: reason}
	}
	if at := IdleStopAt(inst); !at.IsZero() {
		consider(latest(at, now), TriggerIdleShutdown, "idle shutdown", "idle shutdown after "+IdleText(inst.IdleShutdown)+" without activity")
	}
	for _, sch := range schedules {
		if sch.InstanceID != inst.ID || sch.Action != OpStop {
			continue
		}
		at := sch.Next(latest(now.Add(-MissedGrace), sch.UpdatedAt, sch.LastFired))
		if keep := inst.KeepRunningUntil; !at.IsZero() && !at.After(keep) && at.After(keep.Add(-KeepRunningFor-time.Millisecond)) {
			at = keep
		}
		consider(latest(at, now), TriggerSchedule, fmt.Sprintf("schedule %d", sch.ID), sch.Label())
	}
	if next != nil {
		next.Postponed = !inst.KeepRunningUntil.IsZero() && !inst.KeepRunningUntil.Before(now)
	}
	return next
}

// Notice is the stop itself if it is due within NoticeBefore of now, when
// its owner is warned of it and may postpone it, or nil.
func (a *AutoStop) Notice(now time.Time) *AutoStop {
	if a == nil || a.At.After(now.Add(NoticeBefore)) {
		return nil
	}
	return a
}
