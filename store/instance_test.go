package store

import (
	"context"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
)

// newInstance returns an instance of owner, ready for CreateInstance.
func newInstance(name string, owner *instancehub.User) *instancehub.Instance {
	return &instancehub.Instance{
		Name: name, Region: "westeurope",
		VMSize: "Standard_DS3_v2", Family: "standardDSv2Family", VCPUs: 4, MemoryGiB: 14,
		SSHEnabled: true, SSHPublicKey: "ssh-ed25519 AAAA ada", SSHPort: 22,
		VirtualNetwork: "instancehub-vnet", Subnet: "default",
		OwnerID: owner.ID, CreatedByID: owner.ID,
	}
}

// createInstance creates an instance of owner, still Creating.
func createInstance(tb testing.TB, db *DB, name string, owner *instancehub.User) (*instancehub.Instance, *instancehub.Operation) {
	tb.Helper()
	inst := newInstance(name, owner)
	op := &instancehub.Operation{Trigger: instancehub.TriggerUser, UserID: owner.ID}
	if err := db.CreateInstance(context.Background(), inst, op); err != nil {
		tb.Fatal(err)
	}
	return inst, op
}

// finish ends op successfully, leaving its instance in state.
func finish(tb testing.TB, db *DB, op *instancehub.Operation, state instancehub.State) {
	tb.Helper()
	op.Status = instancehub.StatusSucceeded
	err := db.FinishOperation(context.Background(), op, instancehub.InstanceUpdate{State: state, PrivateIP: "10.0.0.4"})
	if err != nil {
		tb.Fatal(err)
	}
}

// runningInstance creates an instance of owner and finishes its creation.
func runningInstance(tb testing.TB, db *DB, name string, owner *instancehub.User) *instancehub.Instance {
	tb.Helper()
	inst, op := createInstance(tb, db, name, owner)
	finish(tb, db, op, instancehub.StateRunning)
	return inst
}

// begin begins an operation of kind on inst, started by user.
func begin(tb testing.TB, db *DB, inst *instancehub.Instance, kind instancehub.OperationKind, user *instancehub.User) *instancehub.Operation {
	tb.Helper()
	op := &instancehub.Operation{InstanceID: inst.ID, Kind: kind, Trigger: instancehub.TriggerUser, UserID: user.ID}
	if err := db.BeginOperation(context.Background(), op); err != nil {
		tb.Fatal(err)
	}
	return op
}

// deleteInstance deletes a running instance.
func deleteInstance(tb testing.TB, db *DB, inst *instancehub.Instance, user *instancehub.User) {
	tb.Helper()
	finish(tb, db, begin(tb, db, inst, instancehub.OpDelete, user), instancehub.StateDeleted)
}

// setState moves an instance with no operation in progress to state.
func setState(tb testing.TB, db *DB, inst *instancehub.Instance, state instancehub.State) {
	tb.Helper()
	_, err := db.SyncInstance(context.Background(), inst.ID, findByID(tb, db, inst.ID).Version, state)
	if err != nil {
		tb.Fatal(err)
	}
}

func findByID(tb testing.TB, db *DB, id int64) *instancehub.Instance {
	tb.Helper()
	inst, err := db.FindInstanceByID(context.Background(), id)
	if err != nil {
		tb.Fatal(err)
	}
	return inst
}

func TestCreateInstance(t *testing.T) {
	db, _ := openTestDB(t)
	ctx := context.Background()
	admin := createUser(t, db, "admin@example.com", "Admin")
	ada := createUser(t, db, "ada@example.com", "Ada")

	inst := newInstance("ada-gpu", ada)
	inst.CreatedByID = admin.ID
	inst.AppSecret = "the-instance-own-secret" // read back as it was stored
	op := &instancehub.Operation{Trigger: instancehub.TriggerUser, UserID: admin.ID}
	if err := db.CreateInstance(ctx, inst, op); err != nil {
		t.Fatal(err)
	}
	if inst.ID == 0 || op.ID == 0 || op.InstanceID != inst.ID {
		t.Fatalf("IDs not set: instance %d, operation %d for %d", inst.ID, op.ID, op.InstanceID)
	}
	if inst.State != instancehub.StateCreating || op.Kind != instancehub.OpCreate || op.Status != instancehub.StatusInProgress {
		t.Errorf("created %s with a %s operation %s; want Creating, Create, InProgress", inst.State, op.Kind, op.Status)
	}

	want := *inst
	want.OwnerName, want.OwnerEmail, want.CreatedByName = "Ada", "ada@example.com", "Admin"
	wantOp := *op
	wantOp.UserName = "Admin"
	want.LastOperation = &wantOp
	for name, find := range map[string]func() (*instancehub.Instance, error){
		"by ID":   func() (*instancehub.Instance, error) { return db.FindInstanceByID(ctx, inst.ID) },
		"by name": func() (*instancehub.Instance, error) { return db.FindInstanceByName(ctx, "ADA-GPU") },
	} {
		got, err := find()
		if err != nil {
			t.Fatalf("find %s: %v", name, err)
		}
		if !reflect.DeepEqual(got, &want) {
			t.Errorf("find %s:\n got %+v\n%+v\nwant %+v\n%+v", name, got, got.LastOperation, &want, want.LastOperation)
		}
	}
}

func TestCreateInstanceNameConflict(t *testing.T) {
	db, _ := openTestDB(t)
	ctx := context.Background()
	ada := createUser(t, db, "ada@example.com", "Ada")
	grace := createUser(t, db, "grace@example.com", "Grace")
	first := runningInstance(t, db, "Lab-1", ada)

	dup, op := newInstance("lab-1", grace), &instancehub.Operation{UserID: grace.ID}
	wantCode(t, db.CreateInstance(ctx, dup, op), instancehub.ECONFLICT)
	_, err := db.FindDeletedInstanceByName(ctx, "lab-1")
	wantCode(t, err, instancehub.ENOTFOUND) // live, not deleted

	// Once deleted, the name is free again; the old row stays, with its
	// history.
	deleteInstance(t, db, first, ada)
	again, _ := createInstance(t, db, "LAB-1", grace)
	found, err := db.FindInstanceByName(ctx, "lab-1")
	if err != nil || found.ID != again.ID {
		t.Fatalf("FindInstanceByName after reuse = %v, %v; want instance %d", found, err, again.ID)
	}
	old := findByID(t, db, first.ID)
	if old.State != instancehub.StateDeleted || old.LastOperation.Kind != instancehub.OpDelete {
		t.Errorf("the deleted instance is %s after %s; want Deleted after Delete", old.State, old.LastOperation.Kind)
	}
	// The deleted one is found by its name, whatever its case, with its
	// Delete.
	if gone, err := db.FindDeletedInstanceByName(ctx, "LAB-1"); err != nil || gone.ID != first.ID || gone.LastOperation.Kind != instancehub.OpDelete {
		t.Fatalf("FindDeletedInstanceByName = %+v, %v; want instance %d after its Delete", gone, err, first.ID)
	}
	// Deleted twice over, the name can be reused still; the one deleted
	// last is found.
	finish(t, db, mustLastOp(t, db, again), instancehub.StateRunning)
	deleteInstance(t, db, again, grace)
	createInstance(t, db, "lab-1", ada)
	if gone, err := db.FindDeletedInstanceByName(ctx, "lab-1"); err != nil || gone.ID != again.ID {
		t.Fatalf("FindDeletedInstanceByName after two deletes = %+v, %v; want instance %d", gone, err, again.ID)
	}
}

func mustLastOp(tb testing.TB, db *DB, inst *instancehub.Instance) *instancehub.Operation {
	tb.Helper()
	return findByID(tb, db, inst.ID).LastOperation
}

func TestFindInstanceNotFound(t *testing.T) {
	db, _ := openTestDB(t)
	ctx := context.Background()
	ada := createUser(t, db, "ada@example.com", "Ada")
	gone := runningInstance(t, db, "gone", ada)
	deleteInstance(t, db, gone, ada)

	_, err := db.FindInstanceByName(ctx, "gone")
	wantCode(t, err, instancehub.ENOTFOUND)
	_, err = db.FindInstanceByName(ctx, "never-was")
	wantCode(t, err, instancehub.ENOTFOUND)
	_, err = db.FindInstanceByID(ctx, 999)
	wantCode(t, err, instancehub.ENOTFOUND)
}

func TestFindInstanceLastOperation(t *testing.T) {
	db, clock := openTestDB(t)
	ada := createUser(t, db, "ada@example.com", "Ada")
	grace := createUser(t, db, "grace@example.com", "Grace")
	inst := runningInstance(t, db, "lab", ada)
	clock.Add(time.Minute)
	stop := begin(t, db, inst, instancehub.OpStop, grace)

	got, err := db.FindInstanceByName(context.Background(), "lab")
	if err != nil {
		t.Fatal(err)
	}
	last := got.LastOperation
	if last == nil || last.ID != stop.ID {
		t.Fatalf("LastOperation = %+v, want the Stop operation %d", last, stop.ID)
	}
	if last.UserName != "Grace" || last.InstanceName != "lab" || !last.StartedAt.Equal(start.Add(time.Minute)) {
		t.Errorf("LastOperation = %+v", last)
	}
}

// instanceFixture creates seven live instances and a deleted one, in this
// order of creation; data_set and data-set are created at the same moment.
func instanceFixture(t *testing.T) (*DB, *instancehub.User, *instancehub.User) {
	db, clock := openTestDB(t)
	ada := createUser(t, db, "ada@example.com", "Ada")
	grace := createUser(t, db, "grace@example.com", "Grace")
	for _, i := range []struct {
		name  string
		owner *instancehub.User
		tick  bool
	}{
		{"alpha", ada, true}, {"Beta", grace, true}, {"gamma", ada, true},
		{"data_set", ada, true}, {"data-set", grace, false},
		{"100%-gpu", ada, true}, {"10-cpu", grace, true},
	} {
		if i.tick {
			clock.Add(time.Second)
		}
		runningInstance(t, db, i.name, i.owner)
	}
	clock.Add(time.Second)
	deleteInstance(t, db, runningInstance(t, db, "deleted-alpha", ada), ada)
	return db, ada, grace
}

func TestFindInstances(t *testing.T) {
	db, ada, grace := instanceFixture(t)
	created := []string{"alpha", "Beta", "gamma", "data_set", "data-set", "100%-gpu", "10-cpu"}
	byName := []string{"10-cpu", "100%-gpu", "alpha", "Beta", "data-set", "data_set", "gamma"}

	tests := []struct {
		name   string
		filter instancehub.InstanceFilter
		want   []string
		total  int
	}{
		{"newest first by default", instancehub.InstanceFilter{}, reversed(created), 7},
		{"created asc", instancehub.InstanceFilter{Sort: instancehub.SortCreatedAsc}, created, 7},
		{"created desc", instancehub.InstanceFilter{Sort: instancehub.SortCreatedDesc}, reversed(created), 7},
		{"name asc, ignoring case", instancehub.InstanceFilter{Sort: instancehub.SortNameAsc}, byName, 7},
		{"name desc", instancehub.InstanceFilter{Sort: instancehub.SortNameDesc}, reversed(byName), 7},
		{"unknown sort", instancehub.InstanceFilter{Sort: "bogus"}, reversed(created), 7},
		{"owner", instancehub.InstanceFilter{OwnerID: grace.ID, Sort: instancehub.SortCreatedAsc},
			[]string{"Beta", "data-set", "10-cpu"}, 3},
		{"search ignores case", instancehub.InstanceFilter{Search: "ALPHA"}, []string{"alpha"}, 1},
		{"search a part", instancehub.InstanceFilter{Search: "et", Sort: instancehub.SortNameAsc},
			[]string{"Beta", "data-set", "data_set"}, 3},
		{"search _ literally", instancehub.InstanceFilter{Search: "a_s"}, []string{"data_set"}, 1},
		{"search % literally", instancehub.InstanceFilter{Search: "0%-"}, []string{"100%-gpu"}, 1},
		{"search a lone %", instancehub.InstanceFilter{Search: "%"}, []string{"100%-gpu"}, 1},
		{"search a backslash", instancehub.InstanceFilter{Search: `\`}, nil, 0},
		{"search and owner", instancehub.InstanceFilter{Search: "A", OwnerID: ada.ID, Sort: instancehub.SortNameAsc},
			[]string{"alpha", "data_set", "gamma"}, 3},
		{"no match", instancehub.InstanceFilter{Search: "zeta"}, nil, 0},
		{"first page", instancehub.InstanceFilter{Sort: instancehub.SortCreatedAsc, Limit: 3}, created[:3], 7},
		{"middle page", instancehub.InstanceFilter{Sort: instancehub.SortCreatedAsc, Offset: 3, Limit: 3}, created[3:6], 7},
		{"last page", instancehub.InstanceFilter{Sort: instancehub.SortCreatedAsc, Offset: 6, Limit: 3}, created[6:], 7},
		{"past the end", instancehub.InstanceFilter{Offset: 7, Limit: 3}, nil, 7},
		{"page of a search", instancehub.InstanceFilter{Search: "a", Sort: instancehub.SortNameDesc, Offset: 1, Limit: 2},
			[]string{"data_set", "data-set"}, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			instances, total, err := db.FindInstances(context.Background(), tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			if got := names(instances); !slices.Equal(got, tt.want) || total != tt.total {
				t.Errorf("got %q of %d, want %q of %d", got, total, tt.want, tt.total)
			}
		})
	}
}

func TestFindInstancesFillsJoins(t *testing.T) {
	db, ada, grace := instanceFixture(t)
	instances, _, err := db.FindInstances(context.Background(), instancehub.InstanceFilter{})
	if err != nil {
		t.Fatal(err)
	}
	users := map[int64]*instancehub.User{ada.ID: ada, grace.ID: grace}
	for _, inst := range instances {
		want := users[inst.OwnerID]
		if want == nil || inst.OwnerName != want.Name || inst.OwnerEmail != want.Email || inst.CreatedByName != want.Name {
			t.Fatalf("%s: owner %d %q <%s>, creator %q", inst.Name, inst.OwnerID, inst.OwnerName, inst.OwnerEmail, inst.CreatedByName)
		}
		op := inst.LastOperation
		if op == nil || op.Kind != instancehub.OpCreate || op.Status != instancehub.StatusSucceeded ||
			op.InstanceName != inst.Name || op.UserName != want.Name {
			t.Errorf("%s: last operation %+v", inst.Name, op)
		}
	}
}

// TestLaterPagesAreTheListingCutAndJoined: a page after the first picks its
// rows before joining them (findInstances); walked page by page, each sort
// and search gives the whole listing's order (ties on created_at, as
// data-set's, broken by ID), each instance once, every join filled.
func TestLaterPagesAreTheListingCutAndJoined(t *testing.T) {
	db, _, _ := instanceFixture(t)
	ctx := context.Background()
	for _, sort := range []instancehub.InstanceSort{instancehub.SortCreatedAsc, instancehub.SortCreatedDesc, instancehub.SortNameAsc, instancehub.SortNameDesc} {
		for _, search := range []string{"", "a"} {
			whole, total, err := db.FindInstances(ctx, instancehub.InstanceFilter{Sort: sort, Search: search})
			if err != nil {
				t.Fatal(err)
			}
			var paged []*instancehub.Instance
			for offset := 0; offset < total; offset += 2 {
				page, n, err := db.FindInstances(ctx, instancehub.InstanceFilter{Sort: sort, Search: search, Offset: offset, Limit: 2})
				if err != nil {
					t.Fatal(err)
				}
				if n != total || len(page) != min(2, total-offset) {
					t.Fatalf("%s %q at %d: %d of %d, want %d of %d", sort, search, offset, len(page), n, min(2, total-offset), total)
				}
				paged = append(paged, page...)
			}
			if !slices.Equal(names(paged), names(whole)) {
				t.Errorf("%s %q: pages %q, listing %q", sort, search, names(paged), names(whole))
			}
			for _, inst := range paged {
				if inst.OwnerName == "" || inst.CreatedByName == "" || inst.LastOperation == nil || inst.LastOperation.UserName == "" {
					t.Errorf("%s %q: %s joined as owner %q, creator %q, last operation %+v", sort, search, inst.Name, inst.OwnerName, inst.CreatedByName, inst.LastOperation)
				}
			}
		}
	}
}

// TestPageTotalsFollowCommits: a filter's total, counted once for all its
// pages, is counted again after any commit, and each filter has its own.
func TestPageTotalsFollowCommits(t *testing.T) {
	db, ada, _ := instanceFixture(t)
	ctx := context.Background()
	total := func(filter instancehub.InstanceFilter) int {
		t.Helper()
		_, n, err := db.FindInstances(ctx, filter)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	all := func(offset int) instancehub.InstanceFilter {
		return instancehub.InstanceFilter{Offset: offset, Limit: 2}
	}
	withA := func(offset int) instancehub.InstanceFilter {
		return instancehub.InstanceFilter{Search: "a", Sort: instancehub.SortNameAsc, Offset: offset, Limit: 2}
	}
	if n, m := total(all(0)), total(withA(0)); n != 7 || m != 5 {
		t.Fatalf("totals %d and %d, want 7 and 5", n, m)
	}
	runningInstance(t, db, "delta", ada)
	if n, m := total(all(2)), total(withA(2)); n != 8 || m != 6 {
		t.Errorf("after a create: totals %d and %d, want 8 and 6", n, m)
	}
	runningInstance(t, db, "zeta-box", ada)
	if n, m := total(all(4)), total(instancehub.InstanceFilter{Search: "zeta", Limit: 2}); n != 9 || m != 1 {
		t.Errorf("after a second create: totals %d and %d, want 9 and 1", n, m)
	}
	alpha, err := db.FindInstanceByName(ctx, "alpha")
	if err != nil {
		t.Fatal(err)
	}
	deleteInstance(t, db, alpha, ada)
	if n, m := total(all(2)), total(withA(0)); n != 8 || m != 6 {
		t.Errorf("after a delete: totals %d and %d, want 8 and 6", n, m)
	}
}

// TestEachIdleClock reads the idle clocks the scheduler's tick compares:
// those of live instances only, each the Clock of the whole instance.
func TestEachIdleClock(t *testing.T) {
	db, _ := openTestDB(t)
	ctx := context.Background()
	ada := createUser(t, db, "ada@example.com", "Ada")
	idle := runningInstance(t, db, "idle", ada)
	at := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	if err := db.SetIdleShutdown(ctx, idle.ID, 90*time.Minute, at); err != nil {
		t.Fatal(err)
	}
	if err := db.KeepRunning(ctx, idle.ID, at.Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := db.RecordActivity(ctx, "idle", at.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	createInstance(t, db, "creating", ada) // its Create is in progress
	deleted := runningInstance(t, db, "deleted", ada)
	deleteInstance(t, db, deleted, ada)

	got := map[int64]instancehub.IdleClock{}
	if err := db.EachIdleClock(ctx, func(c instancehub.IdleClock) { got[c.ID] = c }); err != nil {
		t.Fatal(err)
	}
	instances, _, err := db.FindInstances(ctx, instancehub.InstanceFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || len(instances) != 2 {
		t.Fatalf("%d clocks of %d live instances: %+v", len(got), len(instances), got)
	}
	for _, inst := range instances {
		if want := inst.Clock(); got[inst.ID] != want {
			t.Errorf("%s: clock %+v, want %+v", inst.Name, got[inst.ID], want)
		}
	}
	c := got[idle.ID]
	if c.IdleShutdown != 90*time.Minute || !c.LastActivity.Equal(at.Add(time.Hour)) || c.Busy ||
		!c.IdleStopAt().Equal(at.Add(3*time.Hour)) {
		t.Errorf("idle: %+v, stops at %v", c, c.IdleStopAt())
	}
	for _, inst := range instances {
		if inst.Name == "creating" && (!got[inst.ID].Busy || !got[inst.ID].LastFinished.IsZero()) {
			t.Errorf("creating: %+v", got[inst.ID])
		}
	}
}

func TestSyncInstance(t *testing.T) {
	db, _ := openTestDB(t)
	ctx := context.Background()
	ada := createUser(t, db, "ada@example.com", "Ada")
	running := runningInstance(t, db, "running", ada) // 10.0.0.4, no public IP
	creating, _ := createInstance(t, db, "creating", ada)
	deleted := runningInstance(t, db, "deleted", ada)
	deleteInstance(t, db, deleted, ada)

	tests := []struct {
		name      string
		id        int64
		state     instancehub.State
		changed   bool
		wantState instancehub.State
	}{
		{"nothing new", running.ID, instancehub.StateRunning, false, instancehub.StateRunning},
		{"stopped outside the portal", running.ID, instancehub.StateStopped, true, instancehub.StateStopped},
		{"operation in progress", creating.ID, instancehub.StateMissing, false, instancehub.StateCreating},
		{"deleted", deleted.ID, instancehub.StateMissing, false, instancehub.StateDeleted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := findByID(t, db, tt.id)
			changed, err := db.SyncInstance(ctx, tt.id, before.Version, tt.state)
			if err != nil {
				t.Fatal(err)
			}
			if changed != tt.changed {
				t.Errorf("changed = %v, want %v", changed, tt.changed)
			}
			// A sync learns a power state only: the addresses stay.
			if got := findByID(t, db, tt.id); got.State != tt.wantState {
				t.Errorf("state %s, want %s", got.State, tt.wantState)
			} else if got.PrivateIP != before.PrivateIP || got.PublicIP != before.PublicIP {
				t.Errorf("addresses %q %q, want %q %q", got.PrivateIP, got.PublicIP, before.PrivateIP, before.PublicIP)
			}
		})
	}
	if got := findByID(t, db, running.ID); got.PrivateIP != "10.0.0.4" {
		t.Errorf("the stopped instance's private IP is %q, want 10.0.0.4", got.PrivateIP)
	}
	if changed, err := db.SyncInstance(ctx, 999, 0, instancehub.StateRunning); changed || err != nil {
		t.Errorf("SyncInstance of no instance = %v, %v", changed, err)
	}
	// What the sync read is stale once anything changed the instance since.
	stale := findByID(t, db, running.ID)
	setState(t, db, running, instancehub.StateRunning)
	changed, err := db.SyncInstance(ctx, running.ID, stale.Version, instancehub.StateMissing)
	if err != nil || changed || findByID(t, db, running.ID).State != instancehub.StateRunning {
		t.Errorf("a sync of a stale read changed the instance: %v, %v", changed, err)
	}
}

func names(instances []*instancehub.Instance) []string {
	var names []string
	for _, inst := range instances {
		names = append(names, inst.Name)
	}
	return names
}

func reversed(s []string) []string {
	r := slices.Clone(s)
	slices.Reverse(r)
	return r
}

// TestEachSyncState: the sync's read lists every live instance with its
// version and state, marks those with an operation in progress, and leaves
// deleted ones out.
func TestEachSyncState(t *testing.T) {
	db, _ := openTestDB(t)
	ada := createUser(t, db, "ada@example.com", "Ada")
	createInstance(t, db, "busy", ada)
	_, doneOp := createInstance(t, db, "done", ada)
	finish(t, db, doneOp, instancehub.StateRunning)
	_, goneOp := createInstance(t, db, "gone", ada)
	finish(t, db, goneOp, instancehub.StateDeleted)
	var states []instancehub.SyncState
	err := db.EachSyncState(context.Background(), func(st instancehub.SyncState) { states = append(states, st) })
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]instancehub.SyncState{}
	for _, st := range states {
		got[st.Name] = st
	}
	if len(states) != 2 || !got["busy"].Busy || got["done"].Busy || got["done"].State != instancehub.StateRunning ||
		got["done"].Version == 0 || got["done"].ID == 0 {
		t.Errorf("sync states = %+v", states)
	}

}

// TestInstanceByNameIsKeptUntilAChange: an instance found by name is read
// once while nothing is committed (the details page and every action ask
// for it), each caller gets a copy of its own to change, and a change, here
// or by another process, shows at the next find.
func TestInstanceByNameIsKeptUntilAChange(t *testing.T) {
	db, _ := openTestDB(t)
	ctx := context.Background()
	ada := createUser(t, db, "ada@example.com", "Ada")
	inst := runningInstance(t, db, "lab", ada)
	reads := &readCounter{}
	db.Metrics = reads

	first, err := db.FindInstanceByName(ctx, "lab")
	if err != nil {
		t.Fatal(err)
	}
	before := reads.count()
	first.Access.Manage, first.LastOperation.Step, first.Tags = true, "changed by a caller", map[string]string{"x": "y"}
	again, err := db.FindInstanceByName(ctx, "lab")
	if err != nil {
		t.Fatal(err)
	}
	if reads.count() != before {
		t.Fatalf("%d reads for an instance found again with nothing committed", reads.count()-before)
	}
	if again.Access.Manage || again.LastOperation.Step == "changed by a caller" || len(again.Tags) != 0 || again.State != instancehub.StateRunning {
		t.Fatalf("a caller's change reached the kept instance: %+v", again)
	}

	setState(t, db, inst, instancehub.StateStopped)
	if after, err := db.FindInstanceByName(ctx, "lab"); err != nil || after.State != instancehub.StateStopped {
		t.Fatalf("after a change: %+v, %v", after, err)
	}
	if upper, err := db.FindInstanceByName(ctx, "LAB"); err != nil || upper.Name != "lab" {
		t.Fatalf("by another case: %+v, %v", upper, err)
	}
	if _, err := db.FindInstanceByName(ctx, "no-such"); instancehub.ErrorCode(err) != instancehub.ENOTFOUND {
		t.Fatalf("an unknown name: %v", err)
	}
}
