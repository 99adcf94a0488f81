// Package engine carries operations out: where a create, a start or a stop
// runs, step by step, once the service has authorized and recorded it. Each
// operation is written down before Azure is called, driven under a lease
// that another portal sharing the database takes over if this one dies, and
// resumed from its step's resume token after a restart; the sync keeps the
// store in step with Azure.
package engine

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/instancehub/instancehub"
)

// The engine is the service's and the scheduler's Operations.
var _ instancehub.Operations = (*Engine)(nil)

// Engine carries out operations on instances. It records each operation in
// the store before it calls Azure, follows it step by step in the background,
// keeps each step's resume token, and on start resumes every operation left
// in flight, so nothing stays transitional forever. It also keeps the store
// in step with Azure (Sync).
type Engine struct {
	Instances instancehub.InstanceStore
	Cloud     instancehub.Cloud
	Logger    *slog.Logger
	// PollInterval is how often a step in progress is polled.
	PollInterval time.Duration
	// SyncInterval is how often the store is reconciled with Azure, the
	// first time at Start; 0 turns the background sync off.
	SyncInterval time.Duration
	// UnreachableFor is how long a step may go without an answer from Azure
	// before its operation is given up as failed.
	UnreachableFor time.Duration
	Now            func() time.Time
	// Adopter, if set, adopts the VMs a sync finds that no instance
	// records: the database may be behind the cloud (a restore), but the
	// portal never ignores a VM it made.
	Adopter Adopter
	// AfterSync, if set, is called after each background sync this
	// replica ran, whatever its result: the portal gives back the memory a
	// sync of many instances leaves.
	AfterSync func()

	// Replica names this portal among those sharing the database; a
	// random one unless set. Each operation is driven by the replica that
	// holds its lease, for LeaseFor unless renewed (every third of it);
	// once a lease lapses, because its replica died, another claims the
	// operation and resumes it from its resume token. The background sync
	// runs on the replica holding the lease "sync".
	Replica  string
	LeaseFor time.Duration
	// Exclusive says this portal is the only one on its database (SQLite,
	// whose data directory one portal locks): at Start it takes over every
	// operation in progress at once, without waiting for a lease to lapse,
	// and it renews no lease, which nobody else would claim.
	Exclusive bool
	// Metrics, if set, is told of each operation, lease and sync.
	Metrics instancehub.EngineMetrics
	// Setup runs instances' setup scripts once a create, start or restart
	// has run its cloud steps. Without it, an instance with a script ends
	// in SetupFailed or UserSetupFailed, saying why.
	Setup instancehub.SetupRunner

	mu       sync.Mutex
	syncMu   sync.Mutex // guards lastSync
	lastSync *syncRun   // the sync running, or the last one
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	inflight map[int64]*flight
}

// metrics returns Metrics, or what tells nobody.
func (e *Engine) metrics() instancehub.EngineMetrics {
	if e.Metrics == nil {
		return noMetrics{}
	}
	return e.Metrics
}

// flight is an operation this engine drives: how to stop driving it, and
// until when its lease surely holds. That moment is read on the monotonic
// clock, which a change of the wall clock does not move, and it is taken
// before the write that took or renewed the lease, so it is never later
// than the lease the database keeps. It is zero on an exclusive engine,
// whose operations nobody else may claim.
type flight struct {
	cancel     context.CancelFunc
	leaseUntil time.Time
	lost       bool // another replica took it over; guarded by Engine.mu
}

// Start resumes the operations in flight and starts the background sync.
// Operations run until Stop.
func (e *Engine) Start(ctx context.Context) error {
	e.setDefaults()
	e.mu.Lock()
	e.ctx, e.cancel = context.WithCancel(context.WithoutCancel(ctx))
	e.inflight = map[int64]*flight{}
	e.mu.Unlock()

	if err := e.takeOver(ctx, e.Exclusive); err != nil {
		return err
	}
	if !e.Exclusive { // alone, nobody takes over and nothing lapses
		e.wg.Add(1)
		go e.leaseLoop()
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
	if e.Replica == "" {
		e.Replica = NewReplicaName()
	}
	if e.LeaseFor == 0 {
		e.LeaseFor = DefaultLeaseFor
	}
}

// DefaultLeaseFor is how long a replica's lease of an operation lasts
// without renewal: the longest another replica waits to take over the
// operations of one that died.
const DefaultLeaseFor = 15 * time.Second

// NewReplicaName names a portal process: its host, its process ID and a
// random part, so that a restarted process is another replica.
func NewReplicaName() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s/%d/%x", host, os.Getpid(), b)
}

// takeOver claims the operations whose lease lapsed (all: every one in
// progress) and drives them.
func (e *Engine) takeOver(ctx context.Context, all bool) error {
	leased := time.Now()
	ids, err := e.Instances.ClaimLapsedOperations(ctx, e.Replica, e.LeaseFor, all)
	if err != nil {
		return fmt.Errorf("resume operations: %w", err)
	}
	if len(ids) > 0 {
		e.metrics().OperationsTakenOver(len(ids))
	}
	for _, id := range ids {
		op, err := e.Instances.FindOperation(ctx, id)
		if err != nil {
			return fmt.Errorf("resume operation %d: %w", id, err)
		}
		inst, err := e.Instances.FindInstanceByID(ctx, op.InstanceID)
		if err != nil {
			return fmt.Errorf("resume operation %d: %w", op.ID, err)
		}
		op.LeaseOwner = e.Replica
		e.Logger.InfoContext(instancehub.NewContextWithRequestID(ctx, op.RequestID), "resuming operation", "op", op.ID, "kind", op.Kind, "instance", inst.Name, "step", op.Step)
		e.launch(op, inst, leased)
	}
	return nil
}

// leaseLoop renews the leases of the operations this replica drives, and
// stops driving those another took over, every third of a lease; and it
// looks for lapsed ones to take over every tenth, so that the operations of
// a replica that died resume at most a tenth of a lease after their leases
// lapse (the look is one UPDATE that mostly matches nothing).
func (e *Engine) leaseLoop() {
	defer e.wg.Done()
	renew, claim := time.NewTicker(e.LeaseFor/3), time.NewTicker(e.LeaseFor/10)
	defer renew.Stop()
	defer claim.Stop()
	for {
		select {
		case <-e.ctx.Done():
			return
		case <-renew.C:
			e.renew()
		case <-claim.C:
			if err := e.takeOver(e.ctx, false); err != nil && e.ctx.Err() == nil {
				e.Logger.Warn("take over operations", "err", err)
			}
		}
	}
}

func (e *Engine) renew() {
	e.mu.Lock()
	ids := make([]int64, 0, len(e.inflight))
	for id := range e.inflight {
		ids = append(ids, id)
	}
	e.mu.Unlock()
	renewed := time.Now()
	held, err := e.Instances.RenewOperations(e.ctx, e.Replica, ids, e.LeaseFor)
	e.mu.Lock()
	defer e.mu.Unlock()
	if err != nil {
		if e.ctx.Err() == nil {
			e.Logger.Warn("renew operation leases", "err", err)
		}
		e.letLapsedGo()
		return
	}
	for _, id := range ids {
		f := e.inflight[id]
		switch {
		case f == nil: // it ended meanwhile
		case slices.Contains(held, id):
			f.leaseUntil = renewed.Add(e.LeaseFor)
		case e.lostLocked(id):
			e.Logger.Warn("operation taken over by another portal", "op", id)
		}
	}
}

// letLapsedGo stops driving the operations whose leases may have lapsed
// while the database did not answer: another portal may claim them and
// drive them on, and two must never drive one. They are left as recorded,
// untouched, and resume wherever they are claimed, here too once the
// database answers again. e.mu is held.
func (e *Engine) letLapsedGo() {
	now := time.Now()
	for id, f := range e.inflight {
		if !f.leaseUntil.IsZero() && !now.Before(f.leaseUntil) {
			e.Logger.Warn("lease of operation lapsed while the database did not answer; left to the portal that claims it", "op", id)
			f.cancel()
		}
	}
}

// lost stops driving operation id, which another replica has taken over,
// and counts it once, however many ways this replica learns of it (the
// renewal, a write refused); it reports whether id was driven until now.
func (e *Engine) lost(id int64) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.lostLocked(id)
}

// lostLocked is lost with e.mu held.
func (e *Engine) lostLocked(id int64) bool {
	d := e.inflight[id]
	if d == nil || d.lost {
		return false
	}
	d.lost = true
	d.cancel()
	e.metrics().OperationLost()
	return true
}

// Stop stops following operations and waits for the goroutines to end.
// Operations in flight stay recorded as InProgress, their leases let go,
// and resume on another replica at once, or on the next Start.
func (e *Engine) Stop() {
	e.mu.Lock()
	cancel := e.cancel
	e.mu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	e.wg.Wait()
	ctx, done := context.WithTimeout(context.Background(), 5*time.Second)
	defer done()
	if err := e.Instances.ReleaseOperations(ctx, e.Replica); err != nil {
		e.Logger.Warn("release operation leases", "err", err)
	}
}

// Create records inst, in state Creating, with its Create operation and
// starts it.
func (e *Engine) Create(ctx context.Context, inst *instancehub.Instance, trigger instancehub.Trigger) (*instancehub.Operation, error) {
	leased := time.Now()
	op := e.newOperation(ctx, instancehub.OpCreate, trigger)
	inst.State = instancehub.StateCreating
	inst.CreatedAt = op.StartedAt
	if err := e.Instances.CreateInstance(ctx, inst, op); err != nil {
		return nil, err
	}
	e.metrics().OperationStarted(op.Kind, op.Trigger)
	op.InstanceID, op.InstanceName = inst.ID, inst.Name
	e.launch(op, inst, leased)
	return op, nil
}

// Submit records a Start, Stop, Restart or Delete of inst and starts it.
// ECONFLICT when the instance's state does not allow it.
func (e *Engine) Submit(ctx context.Context, inst *instancehub.Instance, kind instancehub.OperationKind, trigger instancehub.Trigger) (*instancehub.Operation, error) {
	return e.SubmitAutomatic(ctx, inst, kind, trigger, "")
}

// SubmitAutomatic is Submit for an operation the portal starts by itself:
// rule names the schedule or idle rule that started it.
func (e *Engine) SubmitAutomatic(ctx context.Context, inst *instancehub.Instance, kind instancehub.OperationKind, trigger instancehub.Trigger, rule string) (*instancehub.Operation, error) {
	if err := kind.Check(inst.State); err != nil {
		return nil, err
	}
	leased := time.Now()
	op := e.newOperation(ctx, kind, trigger)
	op.Rule = rule
	op.InstanceID, op.InstanceName = inst.ID, inst.Name
	if kind == instancehub.OpStart {
		// Each Start gives the instance a new application secret, stored
		// with the operation, which the cloud's steps deliver to the VM
		// (issue 26, item 8): a secret that leaked stops working.
		secret, err := instancehub.NewAppSecret()
		if err != nil {
			return nil, err
		}
		op.AppSecret = secret
	}
	if err := e.Instances.BeginOperation(ctx, op); err != nil {
		if instancehub.ErrorCode(err) != instancehub.ECONFLICT {
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
	e.metrics().OperationStarted(op.Kind, op.Trigger)
	inst.State = kind.Progressive()
	if op.AppSecret != "" {
		inst.AppSecret = op.AppSecret
	}
	e.launch(op, inst, leased)
	return op, nil
}

func (e *Engine) newOperation(ctx context.Context, kind instancehub.OperationKind, trigger instancehub.Trigger) *instancehub.Operation {
	op := &instancehub.Operation{Kind: kind, Status: instancehub.StatusInProgress, Trigger: trigger, StartedAt: e.Now().UTC(),
		RequestID: instancehub.RequestIDFromContext(ctx)}
	if e.Replica != "" {
		op.LeaseOwner, op.LeaseFor = e.Replica, e.LeaseFor
	}
	if user := instancehub.UserFromContext(ctx); user != nil {
		op.UserID, op.UserName = user.ID, user.Name
	}
	return op
}

// launch drives op in the background. leased is when its lease was
// written (read before the write), on the monotonic clock.
//
// It drives copies of op and inst, which it changes as it goes: the
// caller's stay the caller's, to answer with (an API's 202 reads op) while
// the operation runs.
func (e *Engine) launch(op *instancehub.Operation, inst *instancehub.Instance, leased time.Time) {
	op, inst = new(*op), new(*inst)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.inflight[op.ID] != nil || e.ctx == nil || e.ctx.Err() != nil {
		return
	}
	// The operation's lines name the request that started it.
	ctx, cancel := context.WithCancel(instancehub.NewContextWithRequestID(e.ctx, op.RequestID))
	f := &flight{cancel: cancel}
	if !e.Exclusive {
		f.leaseUntil = leased.Add(e.LeaseFor)
	}
	e.inflight[op.ID] = f
	e.metrics().OperationsDriven(op.Kind, 1)
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		defer func() {
			e.mu.Lock()
			delete(e.inflight, op.ID)
			e.mu.Unlock()
			cancel()
			e.metrics().OperationsDriven(op.Kind, -1)
		}()
		e.run(ctx, op, inst)
	}()
}

// run carries op out step by step. It returns without recording anything
// when the engine stops, or lets the operation go (errLetGo): the operation
// then resumes on the next start, or wherever it is claimed.
func (e *Engine) run(ctx context.Context, op *instancehub.Operation, inst *instancehub.Instance) {
	log := e.Logger.With("op", op.ID, "kind", op.Kind, "instance", inst.Name)
	steps := e.Cloud.Steps(op.Kind, inst)
	first := 0
	for i, s := range steps {
		if s == op.Step {
			first = i
		}
	}
	resumeAt := op.Step
	if slices.Contains(steps, op.Step) {
		resumeAt = ""
	} else if resumeAt != "" {
		first = len(steps) // resumed at a setup script: the cloud's steps are done
	}
	for _, step := range steps[first:] {
		if err := e.runStep(ctx, op, inst, step); err != nil {
			if ctx.Err() != nil {
				return
			}
			if errors.Is(err, errLetGo) {
				log.WarnContext(ctx, "operation left to the portal that claims it", "step", step, "err", err)
				if errors.Is(err, instancehub.ErrLeaseLost) {
					e.lost(op.ID)
				}
				return
			}
			log.WarnContext(ctx, "operation failed", "step", step, "err", err)
			if op.Kind == instancehub.OpCreate {
				e.undoCreate(ctx, inst, log)
				if ctx.Err() != nil {
					return
				}
			}
			e.finish(ctx, op, inst, err)
			return
		}
	}
	if err := e.runSetup(ctx, op, inst, resumeAt); err != nil {
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, errLetGo) {
			log.WarnContext(ctx, "operation left to the portal that claims it", "step", op.Step, "err", err)
			if errors.Is(err, instancehub.ErrLeaseLost) {
				e.lost(op.ID)
			}
			return
		}
		log.WarnContext(ctx, "setup script failed", "step", op.Step, "err", err)
		e.finish(ctx, op, inst, err)
		return
	}
	log.InfoContext(ctx, "operation succeeded", "took", op.Duration(e.Now()))
	e.finish(ctx, op, inst, nil)
}

// runStep begins one step, unless it was begun before a restart, and polls
// it to the end. The step is recorded before Azure is called; a step found
// recorded without a token may or may not have reached Azure, so it is sent
// again: every step is idempotent. Its errors are Azure's, or errLetGo
// when its progress could not be recorded.
func (e *Engine) runStep(ctx context.Context, op *instancehub.Operation, inst *instancehub.Instance, step string) error {
	resumed := op.Step == step
	if resumed && op.ResumeToken != "" && !e.canResume(op.ResumeToken) {
		e.Logger.InfoContext(ctx, "the step's resume token leads elsewhere than the portal's cloud, which changed since; sending the step again",
			"op", op.ID, "step", step)
		op.ResumeToken = ""
	}
	if !resumed || op.ResumeToken == "" {
		op.Step, op.ResumeToken = step, ""
		if err := e.saveProgress(ctx, op); err != nil {
			return err
		}
		token, err := e.begin(ctx, op.Kind, step, inst)
		if err != nil {
			return err
		}
		if token == "" {
			return nil
		}
		op.ResumeToken = token
		if err := e.saveProgress(ctx, op); err != nil {
			return err
		}
	}
	return e.poll(ctx, op.Kind, step, inst, op.ResumeToken)
}

// canResume reports whether the cloud can follow token (ResumeTokens);
// a cloud that cannot tell is trusted.
func (e *Engine) canResume(token string) bool {
	c, ok := e.Cloud.(instancehub.ResumeTokens)
	return !ok || c.CanResume(token)
}

// saveProgress records op's step and resume token (record), answering
// errLetGo when it cannot.
func (e *Engine) saveProgress(ctx context.Context, op *instancehub.Operation) error {
	err := e.record(ctx, op.ID, "save progress", func(ctx context.Context) error {
		return e.Instances.SaveOperationProgress(ctx, op)
	})
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("%w: %w", errLetGo, err)
	}
	return err
}

// errLetGo marks an operation this engine stopped driving without an
// outcome, because the store would not record where it is: its lease was
// lost or lapsed, or the store refused the write for good.
var errLetGo = errors.New("left unrecorded")

// Waits between attempts to record an operation's progress: the database
// is given a moment, then longer ones, but asked at least every few
// seconds, so that an operation goes on soon after it answers again.
const (
	firstRecordWait = 100 * time.Millisecond
	maxRecordWait   = 5 * time.Second
)

// record writes what operation id reached (a step, its resume token, its
// outcome) with write. A store error is never an operation's outcome: a
// write that fails for the database's own reasons (a dropped connection, a
// lock held elsewhere, a disk refusing writes or full) is tried again, after
// firstRecordWait doubling up to maxRecordWait, for as long as this engine
// surely holds the operation's lease, and each attempt ends when the
// lease may lapse. An exclusive engine, alone on its database, tries until
// it stops. Once the lease may have lapsed, another portal may claim the
// operation: record gives up, and its caller stops driving the operation,
// leaving Azure as it is. The store's own refusals (ErrLeaseLost, and its
// *Error answers) are returned at once.
func (e *Engine) record(ctx context.Context, id int64, what string, write func(context.Context) error) error {
	wait := firstRecordWait
	for attempt := 1; ; attempt++ {
		until := e.leaseUntil(id)
		wctx, cancel := ctx, context.CancelFunc(func() {})
		if !until.IsZero() {
			wctx, cancel = context.WithDeadline(ctx, until)
		}
		err := write(wctx)
		cancel()
		var refusal *instancehub.Error
		switch {
		case err == nil:
			return nil
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.As(err, &refusal) && refusal.Code != instancehub.EFULL: // a full disk is made room on
			return err
		case !until.IsZero() && time.Until(until) < wait:
			return fmt.Errorf("%s of operation %d: the lease may lapse before the database answers: %w", what, id, err)
		}
		e.Logger.WarnContext(ctx, "the database did not record an operation's progress; trying again", "op", id, "what", what, "attempt", attempt, "in", wait, "err", err)
		if err := e.sleep(ctx, wait); err != nil {
			return err
		}
		wait = min(2*wait, maxRecordWait)
	}
}

// leaseUntil is when the lease of operation id may lapse, on the monotonic
// clock; zero when it cannot.
func (e *Engine) leaseUntil(id int64) time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	if f := e.inflight[id]; f != nil {
		return f.leaseUntil
	}
	return time.Time{}
}

// begin starts a step. Azure refuses a write as busy while another
// operation runs on the resource or on one it depends on: the first creates
// in a region all write into one new network, and a step sent again after a
// restart may meet its own first attempt. The step then waits and tries
// again, for as long as Azure may go without answering. Any other refusal
// ends the operation.
func (e *Engine) begin(ctx context.Context, kind instancehub.OperationKind, step string, inst *instancehub.Instance) (string, error) {
	first := time.Now() // monotonic: a change of the wall clock neither cuts nor stretches the wait
	for {
		token, err := e.Cloud.BeginStep(ctx, kind, step, inst)
		if err == nil || time.Since(first) > e.busyFor(err) {
			return token, err
		}
		if err := e.sleep(ctx, e.PollInterval); err != nil {
			return "", err
		}
	}
}

// nicReservation is how long Azure keeps a network interface for the VM it
// was attached to after that VM failed or was deleted (180 s), with a
// margin: deleting it before then is refused with NicReservedForAnotherVm.
const nicReservation = 200 * time.Second

// busyFor says how long a refusal is worth waiting out: 0 for a refusal
// that waiting will not change.
func (e *Engine) busyFor(err error) time.Duration {
	switch {
	case !busy(err):
		return 0
	case instancehub.CloudErrorCode(err) == "NicReservedForAnotherVm":
		return min(nicReservation, e.UnreachableFor)
	}
	return e.UnreachableFor
}

// busy reports whether Azure refused because another operation is still
// under way on the resource: compute says OperationNotAllowed "…since
// another operation is in progress", network AnotherOperationInProgress,
// and a network interface is held for its VM right after that VM failed or
// went (NicReservedForAnotherVm, often right after a quota refusal).
func busy(err error) bool {
	if instancehub.ErrorCode(err) != instancehub.ECONFLICT {
		return false
	}
	switch instancehub.CloudErrorCode(err) {
	case "Conflict", "AnotherOperationInProgress", "OperationPreempted", "NicReservedForAnotherVm":
		return true
	case "OperationNotAllowed":
		return strings.Contains(strings.ToLower(instancehub.ErrorMessage(err)), "another operation is in progress")
	}
	return false
}

// poll asks Azure about a step until it ends. Azure not answering is
// tolerated for a while; the step's own failure ends the operation, and so
// does Azure answering that the resource is gone (ENOTFOUND).
func (e *Engine) poll(ctx context.Context, kind instancehub.OperationKind, step string, inst *instancehub.Instance, token string) error {
	var unreachableSince time.Time
	for wait := e.PollInterval; ; wait = e.pollAfter(token) {
		if err := e.sleep(ctx, wait); err != nil {
			return err
		}
		done, err := e.Cloud.PollStep(ctx, kind, step, inst, token)
		switch {
		case err != nil && ctx.Err() != nil:
			return ctx.Err()
		case instancehub.ErrorCode(err) == instancehub.EUNAVAILABLE:
			if unreachableSince.IsZero() {
				unreachableSince = time.Now() // monotonic, as begin's
			} else if time.Since(unreachableSince) > e.UnreachableFor {
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

// maxPollAfter bounds the wait an operation may ask for, so that a step
// is never left unwatched for long.
const maxPollAfter = 2 * time.Minute

// pollAfter is how long to wait before polling token's step again: what the
// operation asked for, when the cloud says, else the poll interval.
func (e *Engine) pollAfter(token string) time.Duration {
	if c, ok := e.Cloud.(instancehub.PollAfter); ok {
		if d := c.PollAfter(token); d > 0 {
			return min(d, maxPollAfter)
		}
	}
	return e.PollInterval
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
// from Azure where it can be. The write is recorded as progress is: when
// it cannot be, the operation is left to the portal that claims it, which
// sends its last step again and so learns the same outcome.
func (e *Engine) finish(ctx context.Context, op *instancehub.Operation, inst *instancehub.Instance, opErr error) {
	op.FinishedAt = e.Now().UTC()
	op.Status = instancehub.StatusSucceeded
	if opErr != nil {
		op.Status = instancehub.StatusFailed
		op.ErrorCode = instancehub.CloudErrorCode(opErr)
		if op.ErrorCode == "" {
			op.ErrorCode = instancehub.ErrorCode(opErr)
		}
		op.ErrorMessage = instancehub.ErrorMessage(opErr)
		if state, ok := setupState(opErr); ok {
			op.ErrorCode, op.ErrorMessage = string(state), opErr.Error()
		}
	} else {
		op.ResumeToken = ""
	}
	update := e.outcome(ctx, op, inst, opErr)
	err := e.record(ctx, op.ID, "record outcome", func(ctx context.Context) error {
		return e.Instances.FinishOperation(ctx, op, update)
	})
	switch {
	case ctx.Err() != nil:
		return
	case errors.Is(err, instancehub.ErrLeaseLost):
		e.Logger.WarnContext(ctx, "operation taken over by another portal before it was recorded", "op", op.ID)
		e.lost(op.ID)
		return
	case instancehub.ErrorCode(err) == instancehub.ECONFLICT:
		// Finished already: by an attempt whose answer was lost on the
		// way back, or by a portal that took it over meanwhile.
		e.Logger.InfoContext(ctx, "operation outcome recorded already", "op", op.ID)
		return
	case err != nil:
		e.Logger.WarnContext(ctx, "operation left to the portal that claims it", "op", op.ID, "err", fmt.Errorf("%w: %w", errLetGo, err))
		return
	}
	e.metrics().OperationEnded(op)
	inst.State, inst.PrivateIP, inst.PublicIP = update.State, update.PrivateIP, update.PublicIP
	if update.Image != "" {
		inst.Image = update.Image
	}
}

// outcome works out an instance's state after op ended. A VM that Azure
// said was gone makes the instance Missing at once, so that it can be
// deleted; a VM still being deleted by someone else would otherwise show
// as Deleting, which the portal cannot act on, until a sync.
func (e *Engine) outcome(ctx context.Context, op *instancehub.Operation, inst *instancehub.Instance, opErr error) instancehub.InstanceUpdate {
	update := instancehub.InstanceUpdate{State: instancehub.StateUnknown, PrivateIP: inst.PrivateIP, PublicIP: inst.PublicIP}
	switch {
	case op.Kind == instancehub.OpDelete && op.Status == instancehub.StatusSucceeded:
		return instancehub.InstanceUpdate{State: instancehub.StateDeleted}
	case op.Kind == instancehub.OpCreate && op.Status == instancehub.StatusFailed && !isSetup(opErr):
		update.State = instancehub.StateCreateFailed
		return update
	case instancehub.ErrorCode(opErr) == instancehub.ENOTFOUND:
		update.State = instancehub.StateMissing
		return update
	}
	vm, err := e.Cloud.VM(ctx, inst)
	switch {
	case err == nil:
		update.State, update.PrivateIP, update.PublicIP, update.Image = vm.State(), vm.PrivateIP, vm.PublicIP, vm.Image
		if state, ok := setupState(opErr); ok && update.State == instancehub.StateRunning {
			update.State = state
		}
	case instancehub.ErrorCode(err) == instancehub.ENOTFOUND && op.Kind == instancehub.OpCreate:
		update.State = instancehub.StateCreateFailed
	case instancehub.ErrorCode(err) == instancehub.ENOTFOUND:
		update.State = instancehub.StateMissing
	default:
		e.Logger.WarnContext(ctx, "read VM after operation", "instance", inst.Name, "err", err)
	}
	return update
}

// undoCreate removes what a failed create made — the network interface,
// security group and public IP, and the VM if Azure kept a failed one —
// since they cost money and hold quota; the instance keeps its error until
// its owner deletes it. Only resources the portal made for the instance are
// removed (the delete steps check). It is tried whatever the create failed
// of, Azure unreachable or throttling included (a refusal of that kind
// leaves what the earlier steps made); what it cannot remove in
// UnreachableFor is left for Delete. The clean-up is not recorded: a portal
// stopped during it sends the failed step again on restart, and cleans up
// again if that fails again.
func (e *Engine) undoCreate(ctx context.Context, inst *instancehub.Instance, log *slog.Logger) {
	undo, cancel := context.WithTimeout(ctx, e.UnreachableFor)
	defer cancel()
	for _, step := range e.Cloud.Steps(instancehub.OpDelete, inst) {
		token, err := e.begin(undo, instancehub.OpDelete, step, inst)
		if err == nil && token != "" {
			err = e.poll(undo, instancehub.OpDelete, step, inst, token)
		}
		if err != nil {
			log.WarnContext(ctx, "clean up after failed create", "step", step, "err", err)
			return
		}
	}
	log.InfoContext(ctx, "cleaned up after failed create")
}
