package engine

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/instancehub/instancehub"
)

// SyncFresh is how long a finished sync answers for Azure: a refresh within
// it gets that sync's report, since listing every VM again so soon would
// spend Azure's read budget to learn nothing new.
const SyncFresh = 5 * time.Second

// Adopter adopts virtual machines of the portal that its records do not
// know, which a sync finds.
type Adopter interface {
	// AdoptUnrecorded adopts, of the VMs named, each that carries this
	// portal's tag and that no live instance records, audits each, tells
	// the Owners, and returns the instances adopted.
	AdoptUnrecorded(ctx context.Context, names []string) ([]*instancehub.Instance, error)
}

// syncRun is one sync, which later callers may join.
type syncRun struct {
	done     chan struct{} // closed when the sync ended
	finished time.Time     // set before done is closed
	report   instancehub.SyncReport
	err      error
}

func (r *syncRun) over() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// Sync reconciles the store with Azure: a power state changed outside the
// portal is taken over; a VM gone without the portal deleting it is marked
// Missing, never dropped. Instances with an operation in flight are left to it.
//
// Syncs are shared, so that any number of requests cost Azure one listing:
// a call joins the sync in progress, or gets the report of one that ended
// less than SyncFresh ago. A new sync waits, like the background sync,
// while Azure's read budget is low: ETHROTTLED then.
func (e *Engine) Sync(ctx context.Context) (instancehub.SyncReport, error) {
	run, err := e.joinSync(ctx)
	if err != nil {
		return instancehub.SyncReport{}, err
	}
	select {
	case <-run.done:
		return run.report, run.err
	case <-ctx.Done():
		return instancehub.SyncReport{}, ctx.Err()
	}
}

// joinSync returns the sync a caller shares, starting one if none is
// running or fresh. One sync runs at a time: each compares its own fresh
// reads of the store and of Azure.
func (e *Engine) joinSync(ctx context.Context) (*syncRun, error) {
	e.syncMu.Lock()
	defer e.syncMu.Unlock()
	if last := e.lastSync; last != nil && (!last.over() || time.Since(last.finished) < SyncFresh) {
		return last, nil
	}
	if b, ok := e.Cloud.(instancehub.ReadBackoff); ok {
		if wait := b.ReadBackoff(); wait > 0 {
			return nil, instancehub.Errorf(instancehub.ETHROTTLED, "Azure's read budget for the subscription is low, so the list was not refreshed from Azure; try again in %s.",
				wait.Round(time.Second))
		}
	}
	run := &syncRun{done: make(chan struct{})}
	e.lastSync = run
	syncCtx, done := e.detach(ctx)
	go func() {
		defer done()
		began := time.Now()
		run.report, run.err = e.sync(syncCtx)
		run.finished = time.Now()
		e.metrics().SyncEnded(run.report, run.finished.Sub(began), run.err)
		close(run.done)
	}()
	return run, nil
}

// detach returns the context a shared sync runs in: not its first caller's,
// whose leaving must not end it for the others, but the engine's, so that
// Stop ends it and waits for it. The returned func marks it ended.
func (e *Engine) detach(ctx context.Context) (context.Context, func()) {
	e.mu.Lock()
	defer e.mu.Unlock()
	switch {
	case e.ctx == nil: // not started: a sync on its own, as in tests
		return context.WithoutCancel(ctx), func() {}
	case e.ctx.Err() != nil:
		return e.ctx, func() {}
	}
	e.wg.Add(1)
	return e.ctx, e.wg.Done
}

func (e *Engine) sync(ctx context.Context) (instancehub.SyncReport, error) {
	var report instancehub.SyncReport
	// The instances are read first: one that changes while Azure is asked
	// has a newer version, and SyncInstance leaves it alone. Only what is
	// compared is kept, and Azure's list is compared a page at a time as
	// it comes: at 100,000 instances, whole instances or the whole list
	// would weigh hundreds of megabytes for a moment every sync.
	ix, err := e.readSyncIndex(ctx)
	if err != nil {
		return report, fmt.Errorf("sync: %w", err)
	}
	// What Azure says of each instance: its state, or unseen (Missing);
	// and the portal's VMs no instance records, busy or not, to adopt.
	var unrecorded []string
	err = e.Cloud.VMs(ctx, func(vm instancehub.VM) {
		if i, ok := ix.find(vm.Name); ok {
			ix.rows[i].azure = ix.code(vm.State())
		} else if vm.Portals {
			unrecorded = append(unrecorded, vm.Name)
		}
	})
	if err != nil {
		return report, fmt.Errorf("sync: %w", err)
	}
	report.Adopted = e.adopt(ctx, unrecorded)
	for _, row := range ix.rows {
		if row.busy { // left to its operation
			continue
		}
		report.Checked++
		was := ix.states[row.state]
		state, ok := syncState(was, ix.states[row.azure])
		if ok && state == instancehub.StateMissing && !e.confirmMissing(ctx, row.id) {
			continue
		}
		if !ok {
			continue
		}
		changed, err := e.Instances.SyncInstance(ctx, row.id, row.version, state)
		if err != nil {
			return report, fmt.Errorf("sync %s: %w", ix.name(row), err)
		}
		if changed {
			report.Changed++
			if state == instancehub.StateMissing {
				report.Missing++
			}
			e.Logger.Info("instance changed outside the portal", "instance", string(ix.name(row)), "from", was, "to", state)
		}
	}
	return report, nil
}

// syncIndex is what a sync compares of every live instance, packed: a row
// of 32 bytes each and their names back to back, about 5 MB at 100,000
// instances where a SyncState each (56 bytes and two strings) held 8 MB,
// and the heap the collector let grow twice that for the seconds of every
// sync. The rows are sorted by name as Azure compares names (whatever
// their case), for Azure's list to find.
type syncIndex struct {
	names  []byte
	rows   []syncRow
	states []instancehub.State // by code; 0 is "", not in Azure's list
}

type syncRow struct {
	id, version  int64
	from, to     uint32 // its name: names[from:to]
	state, azure uint16 // codes in states: the store's, and Azure's
	busy         bool
}

// readSyncIndex reads the store's side of a sync.
func (e *Engine) readSyncIndex(ctx context.Context) (*syncIndex, error) {
	// The list's count (kept while nothing changes) sizes the index, so
	// that it is not grown, and copied, as it is read.
	_, n, err := e.Instances.FindInstances(ctx, instancehub.InstanceFilter{Limit: 1})
	if err != nil {
		return nil, err
	}
	n += n/16 + 16 // and the instances made meanwhile
	ix := &syncIndex{
		names:  make([]byte, 0, n*16),
		rows:   make([]syncRow, 0, n),
		states: []instancehub.State{""},
	}
	err = e.Instances.EachSyncState(ctx, func(st instancehub.SyncState) {
		from := len(ix.names)
		ix.names = append(ix.names, st.Name...)
		ix.rows = append(ix.rows, syncRow{id: st.ID, version: st.Version, from: uint32(from), to: uint32(len(ix.names)),
			state: ix.code(st.State), busy: st.Busy})
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(ix.rows, func(a, b syncRow) int { return compareFold(ix.name(a), ix.name(b)) })
	return ix, nil
}

func (ix *syncIndex) name(r syncRow) []byte { return ix.names[r.from:r.to] }

// code is state's code in ix.states, added at its first sighting: a
// handful of states for any number of instances.
func (ix *syncIndex) code(state instancehub.State) uint16 {
	if i := slices.Index(ix.states, state); i >= 0 {
		return uint16(i)
	}
	ix.states = append(ix.states, state)
	return uint16(len(ix.states) - 1)
}

// find is the row of the instance named name, compared as Azure does.
func (ix *syncIndex) find(name string) (int, bool) {
	return slices.BinarySearchFunc(ix.rows, name, func(r syncRow, name string) int { return compareFold(ix.name(r), name) })
}

// compareFold compares a and b as their lower case would, for ASCII
// letters (a compute's name has only those, digits and hyphens).
func compareFold[A, B []byte | string](a A, b B) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		ca, cb := lower(a[i]), lower(b[i])
		if ca != cb {
			return cmp.Compare(ca, cb)
		}
	}
	return cmp.Compare(len(a), len(b))
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// adopt has the Adopter adopt the portal's VMs a sync found unrecorded,
// and returns how many it adopted; a failure is logged, and the next sync
// tries again.
func (e *Engine) adopt(ctx context.Context, unrecorded []string) int {
	if len(unrecorded) == 0 || e.Adopter == nil {
		return 0
	}
	adopted, err := e.Adopter.AdoptUnrecorded(ctx, unrecorded)
	for _, inst := range adopted {
		e.Logger.Warn("adopted an instance from its virtual machine, which no record named", "instance", inst.Name, "owner", inst.OwnerEmail, "state", inst.State)
	}
	if err != nil && ctx.Err() == nil {
		e.Logger.Warn("sync: adopt the portal's virtual machines no record names", "err", err)
	}
	return len(adopted)
}

// confirmMissing asks Azure for the one VM a list did not show before the
// portal calls it gone: a list is a snapshot, the VM may be brand new.
func (e *Engine) confirmMissing(ctx context.Context, id int64) bool {
	inst, err := e.Instances.FindInstanceByID(ctx, id)
	if err != nil {
		return false
	}
	_, err = e.Cloud.VM(ctx, inst)
	return instancehub.ErrorCode(err) == instancehub.ENOTFOUND
}

// syncState is the state Azure implies for an instance in state was, if
// any: the state of its VM, or Missing when the list did not show it ("").
func syncState(was, azure instancehub.State) (instancehub.State, bool) {
	state := was
	switch {
	case azure == instancehub.StateRunning && (was == instancehub.StateSetupFailed || was == instancehub.StateUserSetupFailed):
		return state, false // the VM runs; its script failed, which Azure does not say
	case azure != "":
		state = azure
	case was == instancehub.StateCreateFailed || was == instancehub.StateMissing:
		return state, false // a failed create may have made no VM at all
	default:
		state = instancehub.StateMissing
	}
	return state, state != was
}

// syncLoop syncs at start, so that what changed in Azure while the portal
// was down shows at once, then every SyncInterval.
func (e *Engine) syncLoop() {
	defer e.wg.Done()
	t := time.NewTicker(e.SyncInterval)
	defer t.Stop()
	for {
		e.backgroundSync()
		select {
		case <-e.ctx.Done():
			return
		case <-t.C:
		}
	}
}

// backgroundSync syncs if this replica holds the sync's lease (for two
// intervals, renewed at each): one replica at a time lists Azure.
func (e *Engine) backgroundSync() {
	if !e.Exclusive {
		held, err := e.Instances.AcquireLease(e.ctx, instancehub.SyncLease, e.Replica, 2*e.SyncInterval)
		if err != nil {
			if e.ctx.Err() == nil {
				e.Logger.Warn("background sync: lease", "err", err)
			}
			return
		}
		e.metrics().SyncLeaseHeld(held)
		if !held {
			return
		}
	}
	_, err := e.Sync(e.ctx)
	if e.AfterSync != nil {
		e.AfterSync()
	}
	switch {
	case err == nil || errors.Is(err, context.Canceled):
	case instancehub.ErrorCode(err) == instancehub.ETHROTTLED:
		e.Logger.Info("background sync skipped", "reason", instancehub.ErrorMessage(err))
	default:
		e.Logger.Warn("background sync", "err", err)
	}
}
