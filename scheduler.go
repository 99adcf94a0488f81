package instancehub

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// MissedGrace is how late a schedule may still fire: a portal that was down
// at the time fires it on start when it is less late than this, and
// otherwise waits for the next time.
const MissedGrace = 15 * time.Minute

// Scheduler runs what starts and stops instances without their users: the
// start/stop schedules and idle shutdown. Each tick reads the instances
// and schedules and writes nothing unless something is due; each firing is
// claimed in the database first, so that it happens once across restarts
// and across portals sharing the database. Operations go through the
// engine, as a user's would.
type Scheduler struct {
	Service *Service
	Logger  *slog.Logger
	// Now is the scheduler's clock; tests move it instead of waiting.
	Now func() time.Time
	// Tick is how often it looks; a minute unless set.
	Tick time.Duration

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Start ticks at once, then every Tick, until Stop.
func (s *Scheduler) Start(ctx context.Context) {
	if s.Tick == 0 {
		s.Tick = time.Minute
	}
	ctx, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(s.Tick)
		defer t.Stop()
		for {
			if _, err := s.RunTick(ctx); err != nil && ctx.Err() == nil {
				s.logger().Error("scheduler tick", "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

// Stop ends the ticks and waits for the one under way.
func (s *Scheduler) Stop() {
	if s.cancel != nil {
		s.cancel()
	}
	s.wg.Wait()
}

// TickReport says what a tick did.
type TickReport struct {
	Fired, Skipped, Failed, IdleStopped int
}

// RunTick evaluates every schedule and idle rule once, at Now. It reads
// the idle clock of each instance in turn and whole instances only of
// those due: at 10,000 instances, whole ones would weigh megabytes every
// minute.
func (s *Scheduler) RunTick(ctx context.Context) (TickReport, error) {
	var report TickReport
	now := s.now()
	schedules, err := s.Service.Automation.FindSchedules(ctx)
	if err != nil {
		return report, fmt.Errorf("scheduler: %w", err)
	}
	byInstance := make(map[int64][]*Schedule)
	for _, sch := range schedules {
		byInstance[sch.InstanceID] = append(byInstance[sch.InstanceID], sch)
	}
	var due []*Schedule
	var idle []int64
	err = s.Service.Instances.EachIdleClock(ctx, func(c IdleClock) {
		for _, sch := range byInstance[c.ID] {
			if _, ok := dueOccurrence(sch, c.KeepRunningUntil, now); ok {
				due = append(due, sch)
			}
		}
		if idleDue(c, now) {
			idle = append(idle, c.ID)
		}
	})
	if err != nil {
		return report, fmt.Errorf("scheduler: %w", err)
	}
	acted := map[int64]bool{}
	for _, sch := range due {
		inst := s.instance(ctx, sch.InstanceID)
		if inst == nil {
			continue
		}
		occ, ok := dueOccurrence(sch, inst.KeepRunningUntil, now)
		if !ok {
			continue
		}
		switch s.fire(ctx, sch, inst, occ, now) {
		case FiringStarted:
			report.Fired++
			acted[inst.ID] = true
		case FiringSkipped:
			report.Skipped++
		case FiringFailed:
			report.Failed++
		}
	}
	for _, id := range idle {
		if acted[id] {
			continue
		}
		if inst := s.instance(ctx, id); inst != nil && s.idleStop(ctx, inst, now) {
			report.IdleStopped++
		}
	}
	return report, nil
}

// instance reads the whole instance the tick found due, or nil if it is
// gone meanwhile.
func (s *Scheduler) instance(ctx context.Context, id int64) *Instance {
	inst, err := s.Service.Instances.FindInstanceByID(ctx, id)
	switch {
	case err != nil && ErrorCode(err) != ENOTFOUND:
		s.logger().Error("scheduler: read instance", "id", id, "err", err)
		return nil
	case err != nil || inst.State == StateDeleted:
		return nil
	}
	return inst
}

// idleDue reports whether idle shutdown should stop the instance now.
func idleDue(c IdleClock, now time.Time) bool {
	stopAt := c.IdleStopAt()
	return !stopAt.IsZero() && !now.Before(stopAt) && !c.Busy
}

// dueOccurrence is the occurrence of sch to fire now, if any: the first
// after its last firing, its last change and the grace period, unless it
// is later than now. A stop its owner postponed is held until then, and
// fires then although past the grace period.
func dueOccurrence(sch *Schedule, keep time.Time, now time.Time) (time.Time, bool) {
	from := latest(now.Add(-MissedGrace), sch.UpdatedAt, sch.LastFired)
	if sch.Action == OpStop && !keep.IsZero() {
		if now.Before(keep) {
			if occ := sch.Next(from); !occ.IsZero() && !occ.After(keep) {
				return time.Time{}, false
			}
		} else if now.Before(keep.Add(MissedGrace)) {
			from = latest(keep.Add(-KeepRunningFor-time.Millisecond), sch.UpdatedAt, sch.LastFired)
		}
	}
	occ := sch.Next(from)
	return occ, !occ.IsZero() && !occ.After(now)
}

func latest(t time.Time, others ...time.Time) time.Time {
	for _, o := range others {
		if o.After(t) {
			t = o
		}
	}
	return t
}

// fire claims sch's occurrence and carries it out. It returns the
// firing's result, or "" when another portal had claimed it.
func (s *Scheduler) fire(ctx context.Context, sch *Schedule, inst *Instance, occ, now time.Time) string {
	log := s.logger().With("instance", inst.Name, "schedule", sch.ID, "occurrence", occ)
	f := &Firing{ScheduleID: sch.ID, Occurrence: occ, FiredAt: now}
	if err := s.Service.Automation.ClaimFiring(ctx, f); err != nil {
		if ErrorCode(err) != ECONFLICT {
			log.Error("claim schedule firing", "err", err)
		}
		return ""
	}
	sch.LastFired = occ
	rule := sch.Label()
	_, err := s.Service.Engine.SubmitAutomatic(ctx, inst, sch.Action, TriggerSchedule, rule)
	switch ErrorCode(err) {
	case "":
		f.Result = FiringStarted
	case ECONFLICT, ENOTFOUND:
		// The state does not allow the action (a start while running): the
		// occurrence is skipped, not retried.
		f.Result, f.Reason = FiringSkipped, ErrorMessage(err)
	default:
		f.Result, f.Reason = FiringFailed, ErrorMessage(err)
		s.recordRefusal(ctx, inst, sch.Action, TriggerSchedule, rule, err, now)
	}
	if ferr := s.Service.Automation.FinishFiring(ctx, f); ferr != nil {
		log.Error("record schedule firing", "err", ferr)
	}
	s.Service.recordAutomatic(ctx, inst.Name, sch.Action, TriggerSchedule, rule, f.Result, err)
	log.Info("schedule fired", "result", f.Result, "reason", f.Reason)
	return f.Result
}

// recordRefusal keeps a refused automatic operation (a scheduled start
// over quota) in the instance's history and tells its owner on their next
// visit. It is not retried: the next occurrence tries again.
func (s *Scheduler) recordRefusal(ctx context.Context, inst *Instance, kind OperationKind, trigger Trigger, rule string, cause error, now time.Time) {
	op := &Operation{InstanceID: inst.ID, InstanceName: inst.Name, Kind: kind, Trigger: trigger, Rule: rule,
		ErrorCode: ErrorCode(cause), ErrorMessage: ErrorMessage(cause), StartedAt: now, FinishedAt: now}
	if err := s.Service.Automation.RecordFailedOperation(ctx, op); err != nil {
		s.logger().Error("record refused operation", "instance", inst.Name, "err", err)
	}
	msg := fmt.Sprintf("The scheduled %s of %s at %s failed: %s", kind.Verb(), inst.Name, now.UTC().Format("Jan 2, 15:04 UTC"), ErrorMessage(cause))
	if err := s.Service.Automation.AddUserNotice(ctx, inst.OwnerID, msg, now); err != nil {
		s.logger().Error("keep notice for the owner", "instance", inst.Name, "err", err)
	}
}

// idleStop stops inst when its idle time has passed and its applications
// are not in use, and reports whether it did. An instance that looks idle
// by the times stored is asked (the probe) only then, so that thousands of
// instances cost no request; in use, its activity is recorded instead.
func (s *Scheduler) idleStop(ctx context.Context, inst *Instance, now time.Time) bool {
	if !idleDue(inst.Clock(), now) {
		return false
	}
	log := s.logger().With("instance", inst.Name)
	if s.Service.Probe != nil {
		activity, err := s.Service.Probe.Probe(ctx, inst)
		switch {
		case err == nil && activity.InUse():
			if err := s.Service.RecordActivity(ctx, inst.Name, now); err != nil {
				log.Error("record activity", "err", err)
			}
			return false
		case err != nil && ErrorCode(err) != EUNAVAILABLE:
			log.Warn("idle shutdown: probe applications", "err", err)
			return false
		}
	}
	rule := "idle shutdown after " + IdleText(inst.IdleShutdown) + " without activity"
	_, err := s.Service.Engine.SubmitAutomatic(ctx, inst, OpStop, TriggerIdleShutdown, rule)
	if ErrorCode(err) == ECONFLICT {
		return false // another portal, or a user, acted first
	}
	result := FiringStarted
	if err != nil {
		result = FiringFailed
	}
	s.Service.recordAutomatic(ctx, inst.Name, OpStop, TriggerIdleShutdown, rule, result, err)
	log.Info("idle shutdown", "idle_since", IdleSince(inst), "err", err)
	return err == nil
}

func (s *Scheduler) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Scheduler) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return s.Service.logger()
}
