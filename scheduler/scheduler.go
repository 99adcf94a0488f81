// Package scheduler runs what starts and stops instances without their
// users: the start/stop schedules and idle shutdown. Where schedules fire,
// it is here; when they are due, the schedules say (instancehub.Schedule,
// instancehub.IdleClock).
package scheduler

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/instancehub/instancehub"
)

// Store is what the scheduler reads and claims: the schedules and their
// firings, the instances' idle clocks, and the notices their owners read.
type Store interface {
	// FindSchedules lists the schedules of every live instance (none given).
	FindSchedules(ctx context.Context, instanceIDs ...int64) ([]*instancehub.Schedule, error)
	// ClaimFiring: ECONFLICT when the occurrence was claimed already.
	ClaimFiring(ctx context.Context, f *instancehub.Firing) error
	FinishFiring(ctx context.Context, f *instancehub.Firing) error
	// EachIdleClock calls fn with the idle clock of each live instance.
	EachIdleClock(ctx context.Context, fn func(instancehub.IdleClock)) error
	// FindInstanceByID: ENOTFOUND when there is no such instance.
	FindInstanceByID(ctx context.Context, id int64) (*instancehub.Instance, error)
	RecordFailedOperation(ctx context.Context, op *instancehub.Operation) error
	AddUserNotice(ctx context.Context, userID int64, message string, at time.Time) error
}

// Operations carries out what the scheduler decides, as a user's actions
// are carried out (the engine).
type Operations interface {
	// SubmitAutomatic: ECONFLICT when the instance's state does not allow
	// the action (or another portal acted first), ENOTFOUND when it is
	// gone, a quota error when it does not fit.
	SubmitAutomatic(ctx context.Context, inst *instancehub.Instance, kind instancehub.OperationKind, trigger instancehub.Trigger, rule string) (*instancehub.Operation, error)
}

// Service is what the scheduler asks of the use cases: whether an
// instance is in use, and the records of what it did.
type Service interface {
	// ProbeActivity asks the applications of the running inst how they
	// are used. EUNAVAILABLE when nothing can tell.
	ProbeActivity(ctx context.Context, inst *instancehub.Instance) (instancehub.Activity, error)
	// RecordActivity notes that the instance name was in use at at.
	RecordActivity(ctx context.Context, name string, at time.Time) error
	// RecordAutomatic audits an operation the portal started by itself;
	// result is a firing's result.
	RecordAutomatic(ctx context.Context, target string, kind instancehub.OperationKind, trigger instancehub.Trigger, rule, result string, err error)
}

// Scheduler fires the schedules and idle shutdown. Each tick reads the
// instances and schedules and writes nothing unless something is due; each
// firing is claimed in the database first, so that it happens once across
// restarts and across portals sharing the database. Operations go through
// the engine, as a user's would.
type Scheduler struct {
	Store      Store
	Operations Operations
	Service    Service
	Logger     *slog.Logger
	// Now is the scheduler's clock; tests move it instead of waiting.
	Now func() time.Time
	// Tick is how often it looks; a minute unless set.
	Tick time.Duration
	// AfterTick, if set, is called after each tick Start runs, whatever
	// its result: the portal gives back the memory a tick over many
	// instances leaves.
	AfterTick func()

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
			if s.AfterTick != nil {
				s.AfterTick()
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
	schedules, err := s.Store.FindSchedules(ctx)
	if err != nil {
		return report, fmt.Errorf("scheduler: %w", err)
	}
	byInstance := make(map[int64][]*instancehub.Schedule)
	for _, sch := range schedules {
		byInstance[sch.InstanceID] = append(byInstance[sch.InstanceID], sch)
	}
	var due []*instancehub.Schedule
	var idle []int64
	err = s.Store.EachIdleClock(ctx, func(c instancehub.IdleClock) {
		for _, sch := range byInstance[c.ID] {
			if _, ok := instancehub.DueOccurrence(sch, c.KeepRunningUntil, now); ok {
				due = append(due, sch)
			}
		}
		if instancehub.IdleDue(c, now) {
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
		occ, ok := instancehub.DueOccurrence(sch, inst.KeepRunningUntil, now)
		if !ok {
			continue
		}
		switch s.fire(ctx, sch, inst, occ, now) {
		case instancehub.FiringStarted:
			report.Fired++
			acted[inst.ID] = true
		case instancehub.FiringSkipped:
			report.Skipped++
		case instancehub.FiringFailed:
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
func (s *Scheduler) instance(ctx context.Context, id int64) *instancehub.Instance {
	inst, err := s.Store.FindInstanceByID(ctx, id)
	switch {
	case err != nil && instancehub.ErrorCode(err) != instancehub.ENOTFOUND:
		s.logger().Error("scheduler: read instance", "id", id, "err", err)
		return nil
	case err != nil || inst.State == instancehub.StateDeleted:
		return nil
	}
	return inst
}

// fire claims sch's occurrence and carries it out. It returns the
// firing's result, or "" when another portal had claimed it.
func (s *Scheduler) fire(ctx context.Context, sch *instancehub.Schedule, inst *instancehub.Instance, occ, now time.Time) string {
	log := s.logger().With("instance", inst.Name, "schedule", sch.ID, "occurrence", occ)
	f := &instancehub.Firing{ScheduleID: sch.ID, Occurrence: occ, FiredAt: now}
	if err := s.Store.ClaimFiring(ctx, f); err != nil {
		if instancehub.ErrorCode(err) != instancehub.ECONFLICT {
			log.Error("claim schedule firing", "err", err)
		}
		return ""
	}
	sch.LastFired = occ
	rule := sch.Label()
	_, err := s.Operations.SubmitAutomatic(ctx, inst, sch.Action, instancehub.TriggerSchedule, rule)
	switch instancehub.ErrorCode(err) {
	case "":
		f.Result = instancehub.FiringStarted
	case instancehub.ECONFLICT, instancehub.ENOTFOUND:
		// The state does not allow the action (a start while running): the
		// occurrence is skipped, not retried.
		f.Result, f.Reason = instancehub.FiringSkipped, instancehub.ErrorMessage(err)
	default:
		f.Result, f.Reason = instancehub.FiringFailed, instancehub.ErrorMessage(err)
		s.recordRefusal(ctx, inst, sch.Action, instancehub.TriggerSchedule, rule, err, now)
	}
	if ferr := s.Store.FinishFiring(ctx, f); ferr != nil {
		log.Error("record schedule firing", "err", ferr)
	}
	s.Service.RecordAutomatic(ctx, inst.Name, sch.Action, instancehub.TriggerSchedule, rule, f.Result, err)
	log.Info("schedule fired", "result", f.Result, "reason", f.Reason)
	return f.Result
}

// recordRefusal keeps a refused automatic operation (a scheduled start
// over quota) in the instance's history and tells its owner on their next
// visit. It is not retried: the next occurrence tries again.
func (s *Scheduler) recordRefusal(ctx context.Context, inst *instancehub.Instance, kind instancehub.OperationKind, trigger instancehub.Trigger, rule string, cause error, now time.Time) {
	op := &instancehub.Operation{InstanceID: inst.ID, InstanceName: inst.Name, Kind: kind, Trigger: trigger, Rule: rule,
		ErrorCode: instancehub.ErrorCode(cause), ErrorMessage: instancehub.ErrorMessage(cause), StartedAt: now, FinishedAt: now}
	if err := s.Store.RecordFailedOperation(ctx, op); err != nil {
		s.logger().Error("record refused operation", "instance", inst.Name, "err", err)
	}
	msg := fmt.Sprintf("The scheduled %s of %s at %s failed: %s", kind.Verb(), inst.Name, now.UTC().Format("Jan 2, 15:04 UTC"), instancehub.ErrorMessage(cause))
	if err := s.Store.AddUserNotice(ctx, inst.OwnerID, msg, now); err != nil {
		s.logger().Error("keep notice for the owner", "instance", inst.Name, "err", err)
	}
}

// idleStop stops inst when its idle time has passed and its applications
// are not in use, and reports whether it did. An instance that looks idle
// by the times stored is asked (the probe) only then, so that thousands of
// instances cost no request; in use, its activity is recorded instead.
func (s *Scheduler) idleStop(ctx context.Context, inst *instancehub.Instance, now time.Time) bool {
	if !instancehub.IdleDue(inst.Clock(), now) {
		return false
	}
	log := s.logger().With("instance", inst.Name)
	activity, err := s.Service.ProbeActivity(ctx, inst)
	switch {
	case err == nil && activity.InUse():
		if err := s.Service.RecordActivity(ctx, inst.Name, now); err != nil {
			log.Error("record activity", "err", err)
		}
		return false
	case err != nil && instancehub.ErrorCode(err) != instancehub.EUNAVAILABLE:
		log.Warn("idle shutdown: probe applications", "err", err)
		return false
	}
	rule := "idle shutdown after " + instancehub.IdleText(inst.IdleShutdown) + " without activity"
	_, err = s.Operations.SubmitAutomatic(ctx, inst, instancehub.OpStop, instancehub.TriggerIdleShutdown, rule)
	if instancehub.ErrorCode(err) == instancehub.ECONFLICT {
		return false // another portal, or a user, acted first
	}
	result := instancehub.FiringStarted
	if err != nil {
		result = instancehub.FiringFailed
	}
	s.Service.RecordAutomatic(ctx, inst.Name, instancehub.OpStop, instancehub.TriggerIdleShutdown, rule, result, err)
	log.Info("idle shutdown", "idle_since", instancehub.IdleSince(inst), "err", err)
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
	return slog.Default()
}
