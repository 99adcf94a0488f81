package instancehub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// Engine carries out operations on instances. It records each operation in
// the store before it calls Azure, follows it step by step in the background,
// keeps each step's resume token, and on start resumes every operation left
// in flight, so nothing stays transitional forever. It also keeps the store
// in step with Azure (Sync).
type Engine struct {
	Instances InstanceStore
	Cloud     Cloud
	Logger    *slog.Logger
	// PollInterval is how often a step in progress is polled.
	PollInterval time.Duration
	// SyncInterval is how often the store is reconciled with Azure; 0 turns
	// the background sync off.
	SyncInterval time.Duration
	// UnreachableFor is how long a step may go without an answer from Azure
	// before its operation is given up as failed.
	UnreachableFor time.Duration
	Now            func() time.Time

	mu       sync.Mutex
	syncMu   sync.Mutex // one sync at a time: each compares its own fresh reads
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	inflight map[int64]bool
}

// Start resumes the operations in flight and starts the background sync.
// Operations run until Stop.
func (e *Engine) Start(ctx context.Context) error {
	e.setDefaults()
	e.mu.Lock()
	e.ctx, e.cancel = context.WithCancel(context.WithoutCancel(ctx))
	e.inflight = map[int64]bool{}
	e.mu.Unlock()

	pending, err := e.Instances.PendingOperations(ctx)
	if err != nil {
		return fmt.Errorf("resume operations: %w", err)
	}
	for _, op := range pending {
		inst, err := e.Instances.FindInstanceByID(ctx, op.InstanceID)
		if err != nil {
			return fmt.Errorf("resume operation %d: %w", op.ID, err)
		}
		e.Logger.Info("resuming operation", "op", op.ID, "kind", op.Kind, "instance", inst.Name, "step", op.Step)
		e.launch(op, inst)
	}
	if e.SyncInterval > 0 {
		e.wg.Add(1)
		go e.syncLoop()
	}
	return nil
}

func (e *Engine) setDefaults() {
	if e.Logger == nil {
		e.Logger = slog.Default()
	}
	if e.PollInterval == 0 {
		e.PollInterval = time.Second
	}
	if e.UnreachableFor == 0 {
		e.UnreachableFor = 10 * time.Minute
	}
	if e.Now == nil {
		e.Now = time.Now
	}
}

// Stop stops following operations and waits for the goroutines to end.
// Operations in flight stay recorded as InProgress and resume on the next Start.
func (e *Engine) Stop() {
	e.mu.Lock()
	cancel := e.cancel
	e.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	e.wg.Wait()
}

// Create records inst, in state Creating, with its Create operation and
// starts it.
func (e *Engine) Create(ctx context.Context, inst *Instance, trigger Trigger) (*Operation, error) {
	op := e.newOperation(ctx, OpCreate, trigger)
	inst.State = StateCreating
	inst.CreatedAt = op.StartedAt
	if err := e.Instances.CreateInstance(ctx, inst, op); err != nil {
		return nil, err
	}
	op.InstanceID, op.InstanceName = inst.ID, inst.Name
	e.launch(op, inst)
	return op, nil
}

// Submit records a Start, Stop, Restart or Delete of inst and starts it.
// ECONFLICT when the instance's state does not allow it.
func (e *Engine) Submit(ctx context.Context, inst *Instance, kind OperationKind, trigger Trigger) (*Operation, error) {
	if err := kind.Check(inst.State); err != nil {
		return nil, err
	}
	op := e.newOperation(ctx, kind, trigger)
	op.InstanceID, op.InstanceName = inst.ID, inst.Name
	if err := e.Instances.BeginOperation(ctx, op); err != nil {
		if ErrorCode(err) != ECONFLICT {
			return nil, err
		}
		// Someone else acted first: explain with the state it is in now.
		current, ferr := e.Instances.FindInstanceByID(ctx, inst.ID)
		if ferr != nil {
			return nil, err
		}
		if cerr := kind.Check(current.State); cerr != nil {
			return nil, cerr
		}
		return nil, err
	}
	inst.State = kind.Progressive()
	e.launch(op, inst)
	return op, nil
}

func (e *Engine) newOperation(ctx context.Context, kind OperationKind, trigger Trigger) *Operation {
	op := &Operation{Kind: kind, Status: StatusInProgress, Trigger: trigger, StartedAt: e.Now().UTC()}
	if user := UserFromContext(ctx); user != nil {
		op.UserID, op.UserName = user.ID, user.Name
	}
	return op
}

func (e *Engine) launch(op *Operation, inst *Instance) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.inflight[op.ID] || e.ctx == nil || e.ctx.Err() != nil {
		return
	}
	e.inflight[op.ID] = true
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		defer func() {
			e.mu.Lock()
			delete(e.inflight, op.ID)
			e.mu.Unlock()
		}()
		e.run(e.ctx, op, inst)
	}()
}

// run carries op out step by step. It returns without recording anything
// when the engine stops: the operation then resumes on the next start.
func (e *Engine) run(ctx context.Context, op *Operation, inst *Instance) {
	log := e.Logger.With("op", op.ID, "kind", op.Kind, "instance", inst.Name)
	steps := e.Cloud.Steps(op.Kind, inst)
	first := 0
	for i, s := range steps {
		if s == op.Step {
			first = i
		}
	}
	for _, step := range steps[first:] {
		if err := e.runStep(ctx, op, inst, step); err != nil {
			if ctx.Err() != nil {
				return
			}
			log.Warn("operation failed", "step", step, "err", err)
			e.finish(ctx, op, inst, err)
			return
		}
	}
	log.Info("operation succeeded", "took", op.Duration(e.Now()))
	e.finish(ctx, op, inst, nil)
}

// runStep begins one step, unless it was begun before a restart, and polls
// it to the end. The step is recorded before Azure is called; a step found
// recorded without a token may or may not have reached Azure, so it is sent
// again: every step is idempotent.
func (e *Engine) runStep(ctx context.Context, op *Operation, inst *Instance, step string) error {
	resumed := op.Step == step
	if !resumed || op.ResumeToken == "" {
		op.Step, op.ResumeToken = step, ""
		if err := e.Instances.SaveOperationProgress(ctx, op); err != nil {
			return err
		}
		token, err := e.begin(ctx, op, inst, step, resumed)
		if err != nil {
			return err
		}
		if token == "" {
			return nil
		}
		op.ResumeToken = token
		if err := e.Instances.SaveOperationProgress(ctx, op); err != nil {
			return err
		}
	}
	return e.poll(ctx, op, inst, step)
}

// begin starts a step. A step sent again after a restart may meet its own
// first attempt still running, which Azure refuses as busy; it then waits
// and tries again, for as long as Azure may go without answering. Any other
// refusal ends the operation.
func (e *Engine) begin(ctx context.Context, op *Operation, inst *Instance, step string, resumed bool) (string, error) {
	deadline := e.Now().Add(e.UnreachableFor)
	for {
		token, err := e.Cloud.BeginStep(ctx, op.Kind, step, inst)
		if err == nil || !resumed || !busy(err) || e.Now().After(deadline) {
			return token, err
		}
		if err := e.sleep(ctx, e.PollInterval); err != nil {
			return "", err
		}
	}
}

// busy reports whether Azure refused because another operation is still
// under way on the resource: compute says OperationNotAllowed "…since
// another operation is in progress", network AnotherOperationInProgress.
func busy(err error) bool {
	if ErrorCode(err) != ECONFLICT {
		return false
	}
	switch CloudErrorCode(err) {
	case "Conflict", "AnotherOperationInProgress", "OperationPreempted":
		return true
	case "OperationNotAllowed":
		return strings.Contains(strings.ToLower(ErrorMessage(err)), "another operation is in progress")
	}
	return false
}

// poll asks Azure about a step until it ends. Azure not answering is
// tolerated for a while; the step's own failure ends the operation.
func (e *Engine) poll(ctx context.Context, op *Operation, inst *Instance, step string) error {
	var unreachableSince time.Time
	for {
		if err := e.sleep(ctx, e.PollInterval); err != nil {
			return err
		}
		done, err := e.Cloud.PollStep(ctx, op.Kind, step, inst, op.ResumeToken)
		switch {
		case err != nil && ctx.Err() != nil:
			return ctx.Err()
		case ErrorCode(err) == EUNAVAILABLE:
			if unreachableSince.IsZero() {
				unreachableSince = e.Now()
			} else if e.Now().Sub(unreachableSince) > e.UnreachableFor {
				return err
			}
		case err != nil:
			return err
		case done:
			return nil
		default:
			unreachableSince = time.Time{}
		}
	}
}

func (e *Engine) sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// finish records the outcome of op and the instance's state after it, read
// from Azure where it can be.
func (e *Engine) finish(ctx context.Context, op *Operation, inst *Instance, opErr error) {
	op.FinishedAt = e.Now().UTC()
	op.Status = StatusSucceeded
	if opErr != nil {
		op.Status = StatusFailed
		op.ErrorCode = CloudErrorCode(opErr)
		if op.ErrorCode == "" {
			op.ErrorCode = ErrorCode(opErr)
		}
		op.ErrorMessage = ErrorMessage(opErr)
	} else {
		op.ResumeToken = ""
	}
	update := e.outcome(ctx, op, inst)
	if err := e.Instances.FinishOperation(ctx, op, update); err != nil {
		e.Logger.Error("record operation outcome", "op", op.ID, "err", err)
		return
	}
	inst.State, inst.PrivateIP, inst.PublicIP = update.State, update.PrivateIP, update.PublicIP
	if update.Image != "" {
		inst.Image = update.Image
	}
}

// outcome works out an instance's state after op ended.
func (e *Engine) outcome(ctx context.Context, op *Operation, inst *Instance) InstanceUpdate {
	if op.Kind == OpDelete && op.Status == StatusSucceeded {
		return InstanceUpdate{State: StateDeleted}
	}
	update := InstanceUpdate{State: StateUnknown, PrivateIP: inst.PrivateIP, PublicIP: inst.PublicIP}
	vm, err := e.Cloud.VM(ctx, inst)
	switch {
	case err == nil:
		update.State, update.PrivateIP, update.PublicIP, update.Image = vm.State(), vm.PrivateIP, vm.PublicIP, vm.Image
	case ErrorCode(err) == ENOTFOUND && op.Kind == OpCreate:
		update.State = StateCreateFailed
	case ErrorCode(err) == ENOTFOUND:
		update.State = StateMissing
	default:
		e.Logger.Warn("read VM after operation", "instance", inst.Name, "err", err)
	}
	if op.Kind == OpCreate && op.Status == StatusFailed {
		update.State = StateCreateFailed
	}
	return update
}

// SyncReport says what a sync found.
type SyncReport struct {
	Checked int // instances compared with Azure
	Changed int // instances whose state changed
	Missing int // instances whose VM was gone
}

// Sync reconciles the store with Azure: a power state changed outside the
// portal is taken over; a VM gone without the portal deleting it is marked
// Missing, never dropped. Instances with an operation in flight are left to it.
func (e *Engine) Sync(ctx context.Context) (SyncReport, error) {
	e.syncMu.Lock()
	defer e.syncMu.Unlock()
	var report SyncReport
	// The instances are read first: one that changes while Azure is asked
	// has a newer version, and SyncInstance leaves it alone.
	instances, _, err := e.Instances.FindInstances(ctx, InstanceFilter{})
	if err != nil {
		return report, fmt.Errorf("sync: %w", err)
	}
	vms, err := e.Cloud.VMs(ctx)
	if err != nil {
		return report, fmt.Errorf("sync: %w", err)
	}
	for _, inst := range instances {
		if inst.LastOperation != nil && inst.LastOperation.Status == StatusInProgress {
			continue
		}
		report.Checked++
		update, ok := syncUpdate(inst, vms)
		if ok && update.State == StateMissing && !e.confirmMissing(ctx, inst) {
			continue
		}
		if !ok {
			continue
		}
		changed, err := e.Instances.SyncInstance(ctx, inst.ID, inst.Version, update)
		if err != nil {
			return report, fmt.Errorf("sync %s: %w", inst.Name, err)
		}
		if changed {
			report.Changed++
			if update.State == StateMissing {
				report.Missing++
			}
			e.Logger.Info("instance changed outside the portal", "instance", inst.Name, "from", inst.State, "to", update.State)
		}
	}
	return report, nil
}

// confirmMissing asks Azure for the one VM a list did not show before the
// portal calls it gone: a list is a snapshot, the VM may be brand new.
func (e *Engine) confirmMissing(ctx context.Context, inst *Instance) bool {
	_, err := e.Cloud.VM(ctx, inst)
	return ErrorCode(err) == ENOTFOUND
}

// syncUpdate is the state Azure implies for inst, if any.
func syncUpdate(inst *Instance, vms map[string]VM) (InstanceUpdate, bool) {
	update := InstanceUpdate{State: inst.State, PrivateIP: inst.PrivateIP, PublicIP: inst.PublicIP}
	vm, exists := vms[strings.ToLower(inst.Name)]
	switch {
	case exists:
		update.State = vm.State()
	case inst.State == StateCreateFailed || inst.State == StateMissing:
		return update, false // a failed create may have made no VM at all
	default:
		update.State = StateMissing
	}
	return update, update.State != inst.State
}

func (e *Engine) syncLoop() {
	defer e.wg.Done()
	t := time.NewTicker(e.SyncInterval)
	defer t.Stop()
	for {
		select {
		case <-e.ctx.Done():
			return
		case <-t.C:
			if b, ok := e.Cloud.(ReadBackoff); ok && b.ReadBackoff() > 0 {
				e.Logger.Info("background sync skipped: Azure's read budget is low", "retry_in", b.ReadBackoff().Round(time.Second))
				continue
			}
			if _, err := e.Sync(e.ctx); err != nil && !errors.Is(err, context.Canceled) {
				e.Logger.Warn("background sync", "err", err)
			}
		}
	}
}
