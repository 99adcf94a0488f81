package store

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
)

// allStates are every state an instance can be in.
var allStates = append(slices.Clone(instancehub.ListedStates), instancehub.StateDeleted)

func runningTime(t *testing.T, db *DB, inst *instancehub.Instance, since, until time.Time) time.Duration {
	t.Helper()
	total, d, err := db.RunningTime(context.Background(), inst.ID, since, until)
	if err != nil {
		t.Fatal(err)
	}
	// The total is the window from the beginning.
	if _, all, err := db.RunningTime(context.Background(), inst.ID, time.Time{}, until); err != nil || all != total {
		t.Errorf("total running time %v; from the beginning %v, %v", total, all, err)
	}
	return d
}

// TestRunningTimeFollowsOperations runs an instance through a create, a
// stop, a start and a restart, and reads its running time back in windows.
func TestRunningTimeFollowsOperations(t *testing.T) {
	db, clock := openTestDB(t)
	ada := createUser(t, db, "ada@example.com", "Ada")
	inst, op := createInstance(t, db, "lab", ada)
	clock.Add(5 * time.Minute) // creating bills nothing
	finish(t, db, op, instancehub.StateRunning)
	clock.Add(time.Hour)
	stop := begin(t, db, inst, instancehub.OpStop, ada)
	clock.Add(2 * time.Minute) // stopping bills until the VM is deallocated
	finish(t, db, stop, instancehub.StateStopped)
	clock.Add(3 * time.Hour)
	start := begin(t, db, inst, instancehub.OpStart, ada)
	clock.Add(time.Minute)
	finish(t, db, start, instancehub.StateRunning)
	clock.Add(10 * time.Minute)
	restart := begin(t, db, inst, instancehub.OpRestart, ada)
	clock.Add(time.Minute)
	finish(t, db, restart, instancehub.StateRunning)
	clock.Add(19 * time.Minute)
	now := clock.Now()

	if got, want := runningTime(t, db, inst, time.Time{}, now), time.Hour+32*time.Minute; got != want {
		t.Errorf("running time so far = %v, want %v", got, want)
	}
	// From the middle of the stop on.
	if got, want := runningTime(t, db, inst, stop.StartedAt.Add(time.Minute), now), 31*time.Minute; got != want {
		t.Errorf("running time since the stop's middle = %v, want %v", got, want)
	}
	// A window that ends before the start ends the open interval too.
	if got, want := runningTime(t, db, inst, time.Time{}, start.StartedAt), time.Hour+2*time.Minute; got != want {
		t.Errorf("running time until the start = %v, want %v", got, want)
	}
	var intervals int
	if err := db.rawQueryRow(context.Background(), `SELECT COUNT(*) FROM running_intervals WHERE instance_id = ?`, inst.ID).Scan(&intervals); err != nil {
		t.Fatal(err)
	}
	if intervals != 2 {
		t.Errorf("%d intervals, want 2: a restart keeps the VM allocated", intervals)
	}
}

// TestRunningTimeAcrossTheMonth counts an interval that spans the start of
// the month in both months, an open one until now, and a deleted
// instance's time in its region's sums.
func TestRunningTimeAcrossTheMonth(t *testing.T) {
	db, clock := openTestDB(t)
	ctx := context.Background()
	ada := createUser(t, db, "ada@example.com", "Ada")
	clock.Add(-10 * time.Hour) // Feb 28, 23:00
	old := runningInstance(t, db, "old-lab", ada)
	gpu := newInstance("gpu-lab", ada)
	gpu.VMSize, gpu.Family, gpu.VCPUs = "Standard_NC6s_v3", "standardNCSv3Family", 6
	if err := db.CreateInstance(ctx, gpu, &instancehub.Operation{Trigger: instancehub.TriggerUser, UserID: ada.ID}); err != nil {
		t.Fatal(err)
	}
	other := newInstance("elsewhere", ada)
	other.Region = "eastus"
	if err := db.CreateInstance(ctx, other, &instancehub.Operation{Trigger: instancehub.TriggerUser, UserID: ada.ID}); err != nil {
		t.Fatal(err)
	}
	finish(t, db, lastOp(t, db, other), instancehub.StateRunning)
	clock.Add(12 * time.Hour) // Mar 1, 11:00
	deleteInstance(t, db, old, ada)
	finish(t, db, lastOp(t, db, gpu), instancehub.StateRunning)
	clock.Add(3 * time.Hour) // Mar 1, 14:00
	now := clock.Now()
	month := instancehub.MonthStart(now)

	if got, want := runningTime(t, db, old, month, now), 11*time.Hour; got != want {
		t.Errorf("deleted instance this month = %v, want %v", got, want)
	}
	if got, want := runningTime(t, db, old, time.Time{}, now), 12*time.Hour; got != want {
		t.Errorf("deleted instance so far = %v, want %v", got, want)
	}
	if got, want := runningTime(t, db, gpu, month, now), 3*time.Hour; got != want {
		t.Errorf("open interval = %v, want %v", got, want)
	}
	got, err := db.RunningTimeBySize(ctx, "westeurope", month, now)
	if err != nil {
		t.Fatal(err)
	}
	want := []instancehub.SizeRunningTime{
		{VMSize: "Standard_DS3_v2", Family: "standardDSv2Family", Running: 11 * time.Hour},
		{VMSize: "Standard_NC6s_v3", Family: "standardNCSv3Family", Running: 3 * time.Hour},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("westeurope this month = %v, want %v", got, want)
	}
}

func lastOp(t *testing.T, db *DB, inst *instancehub.Instance) *instancehub.Operation {
	t.Helper()
	return findByID(t, db, inst.ID).LastOperation
}

// TestRunningTimeFromEveryWriter records running time whoever changes the
// state: the sync, an adopted VM, and another process's plain UPDATE.
func TestRunningTimeFromEveryWriter(t *testing.T) {
	db, clock := openTestDB(t)
	ctx := context.Background()
	ada := createUser(t, db, "ada@example.com", "Ada")
	synced := runningInstance(t, db, "synced", ada)
	clock.Add(time.Hour)
	setState(t, db, synced, instancehub.StateStopped) // the sync found it deallocated

	adopted := newInstance("adopted", ada)
	adopted.State = instancehub.StateRunning
	if err := db.AdoptInstance(ctx, adopted); err != nil {
		t.Fatal(err)
	}
	other, _ := createInstance(t, db, "other-process", ada)
	if _, err := db.rawExec(ctx, `UPDATE instances SET state = 'Running', updated_at = ? WHERE id = ?`,
		millis(clock.Now()), other.ID); err != nil {
		t.Fatal(err)
	}
	clock.Add(30 * time.Minute)
	now := clock.Now()
	for _, tt := range []struct {
		inst *instancehub.Instance
		want time.Duration
	}{{synced, time.Hour}, {adopted, 30 * time.Minute}, {other, 30 * time.Minute}} {
		if got := runningTime(t, db, tt.inst, time.Time{}, now); got != tt.want {
			t.Errorf("%s: running time %v, want %v", tt.inst.Name, got, tt.want)
		}
	}
}

// TestRunningIntervalsFollowBilledStates checks the migration's triggers
// against instancehub.State.Billed: entering any billed state from one that
// is not opens an interval, and leaving them all closes it.
func TestRunningIntervalsFollowBilledStates(t *testing.T) {
	db, clock := openTestDB(t)
	ctx := context.Background()
	ada := createUser(t, db, "ada@example.com", "Ada")
	inst := runningInstance(t, db, "lab", ada)
	open := func() bool {
		var n int
		if err := db.rawQueryRow(ctx, `SELECT COUNT(*) FROM running_intervals WHERE instance_id = ? AND stopped_at IS NULL`, inst.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == 1
	}
	set := func(s instancehub.State) {
		clock.Add(time.Minute)
		if _, err := db.rawExec(ctx, `UPDATE instances SET state = ?, updated_at = ? WHERE id = ?`, s, millis(clock.Now()), inst.ID); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range allStates {
		set(instancehub.StateStopped)
		set(s)
		if open() != s.Billed() {
			t.Errorf("Stopped → %s: an interval open is %v, want %v", s, open(), s.Billed())
		}
		set(instancehub.StateRunning)
		set(s)
		if open() != s.Billed() {
			t.Errorf("Running → %s: an interval open is %v, want %v", s, open(), s.Billed())
		}
	}
}

// TestRunningTimeBackFilled opens a database made before running time was
// recorded: an instance running then has run since its last change.
func TestRunningTimeBackFilled(t *testing.T) {
	ctx := context.Background()
	path, raw := olderDatabase(t, 15)
	changed := start.Add(-2 * time.Hour)
	for _, stmt := range []string{
		`INSERT INTO users (id, email, name, created_at) VALUES (1, 'ada@example.com', 'Ada', 0)`,
		fmt.Sprintf(`INSERT INTO instances (id, name, region, vm_size, family, vcpus, memory_gib, state, owner_id, created_by_id, created_at, updated_at)
			VALUES (1, 'running', 'eastus', 'Standard_DS3_v2', 'standardDSv2Family', 4, 14, 'Running', 1, 1, 0, %d),
			       (2, 'stopped', 'eastus', 'Standard_DS3_v2', 'standardDSv2Family', 4, 14, 'Stopped', 1, 1, 0, %d)`,
			millis(changed), millis(changed)),
	} {
		if _, err := raw.ExecContext(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	raw.Close()

	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for id, want := range map[int64]time.Duration{1: 2 * time.Hour, 2: 0} {
		if got, _, err := db.RunningTime(ctx, id, time.Time{}, start); err != nil || got != want {
			t.Errorf("instance %d: running time %v, %v; want %v", id, got, err, want)
		}
	}
}

// TestFailedSetupBackFilled opens a database made before a failed setup
// script counted as running (version 23): an instance left SetupFailed or
// UserSetupFailed then has run since its last change.
func TestFailedSetupBackFilled(t *testing.T) {
	ctx := context.Background()
	path, raw := olderDatabase(t, 23)
	changed := start.Add(-3 * time.Hour)
	for _, stmt := range []string{
		`INSERT INTO users (id, email, name, created_at) VALUES (1, 'ada@example.com', 'Ada', 0)`,
		fmt.Sprintf(`INSERT INTO instances (id, name, region, vm_size, family, vcpus, memory_gib, state, owner_id, created_by_id, created_at, updated_at)
			VALUES (1, 'made', 'eastus', 'Standard_DS3_v2', 'standardDSv2Family', 4, 14, 'SetupFailed', 1, 1, 0, %d),
			       (2, 'started', 'eastus', 'Standard_DS3_v2', 'standardDSv2Family', 4, 14, 'UserSetupFailed', 1, 1, 0, %d),
			       (3, 'stopped', 'eastus', 'Standard_DS3_v2', 'standardDSv2Family', 4, 14, 'Stopped', 1, 1, 0, %d)`,
			millis(changed), millis(changed), millis(changed)),
	} {
		if _, err := raw.ExecContext(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	raw.Close()

	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for id, want := range map[int64]time.Duration{1: 3 * time.Hour, 2: 3 * time.Hour, 3: 0} {
		if got, _, err := db.RunningTime(ctx, id, time.Time{}, start); err != nil || got != want {
			t.Errorf("instance %d: running time %v, %v; want %v", id, got, err, want)
		}
	}
}

// readCounter counts the store's reads.
type readCounter struct {
	mu    sync.Mutex
	reads int
}

func (c *readCounter) Query(kind string, _ time.Duration, _ error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if kind == QueryRead {
		c.reads++
	}
}

func (c *readCounter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reads
}

// TestRunningTimeBySizeIsKeptExactly: the region's running time by size,
// which the quota page asks at every view, is read once while nothing
// changes and is then exactly what the query says at every later moment:
// open intervals grow with the clock, closed ones stay, a month start
// cuts both; a change (a stop, a new instance) shows at once; a moment
// before the latest start or stop (a clock set back) asks the query.
func TestRunningTimeBySizeIsKeptExactly(t *testing.T) {
	db, clock := openTestDB(t)
	ctx := context.Background()
	ada := createUser(t, db, "ada@example.com", "Ada")
	clock.Add(-10 * time.Hour) // the month before
	spanning := runningInstance(t, db, "spanning", ada)
	stopped := runningInstance(t, db, "stopped", ada)
	clock.Add(12 * time.Hour) // this month
	stop := begin(t, db, stopped, instancehub.OpStop, ada)
	clock.Add(time.Minute)
	finish(t, db, stop, instancehub.StateStopped)
	gpu := newInstance("gpu", ada)
	gpu.VMSize, gpu.Family, gpu.VCPUs = "Standard_NC6s_v3", "standardNCSv3Family", 6
	if err := db.CreateInstance(ctx, gpu, &instancehub.Operation{Trigger: instancehub.TriggerUser, UserID: ada.ID}); err != nil {
		t.Fatal(err)
	}
	clock.Add(30 * time.Minute)
	finish(t, db, lastOp(t, db, gpu), instancehub.StateRunning)
	clock.Add(time.Hour)
	month := instancehub.MonthStart(clock.Now())

	reads := &readCounter{}
	db.Metrics = reads
	same := func(at time.Time) {
		t.Helper()
		for _, since := range []time.Time{month, {}} {
			got, err := db.RunningTimeBySize(ctx, "westeurope", since, at)
			if err != nil {
				t.Fatal(err)
			}
			want, err := db.runningTimeBySize(ctx, "westeurope", since, at)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) || len(got) == 0 {
				t.Fatalf("since %v until %v: kept %v, the query %v", since, at, got, want)
			}
		}
	}
	now := clock.Now()
	same(now)
	before := reads.count()
	for _, later := range []time.Duration{time.Second, time.Minute, 7 * time.Hour} {
		if got, err := db.RunningTimeBySize(ctx, "westeurope", month, now.Add(later)); err != nil || len(got) != 2 {
			t.Fatalf("%v later: %v, %v", later, got, err)
		}
		same(now.Add(later))
	}
	if kept := reads.count() - before; kept != 3*2 { // only same's own queries, one per since and moment
		t.Fatalf("%d reads for the kept sums over three moments, want only the %d comparisons'", kept, 3*2)
	}

	// A change shows at once.
	stopSpanning := begin(t, db, spanning, instancehub.OpStop, ada)
	clock.Add(time.Minute)
	finish(t, db, stopSpanning, instancehub.StateStopped)
	clock.Add(time.Hour)
	same(clock.Now())
	// A clock set back before the latest stop.
	same(clock.Now().Add(-90 * time.Minute))
}

// TestRunningTimeIsKeptExactly: an instance's running time, summed from its
// intervals kept by the data version, is the query's at every moment and
// window (before, inside and after each interval, a clock set back
// included), reads nothing more while nothing changes, and follows a stop
// at once.
func TestRunningTimeIsKeptExactly(t *testing.T) {
	db, clock := openTestDB(t)
	ctx := context.Background()
	ada := createUser(t, db, "ada@example.com", "Ada")
	clock.Add(-10 * time.Hour)
	inst := runningInstance(t, db, "cycled", ada)
	for range 3 { // stopped and started again: closed intervals, and an open one
		clock.Add(2 * time.Hour)
		stop := begin(t, db, inst, instancehub.OpStop, ada)
		clock.Add(time.Minute)
		finish(t, db, stop, instancehub.StateStopped)
		clock.Add(30 * time.Minute)
		start := begin(t, db, inst, instancehub.OpStart, ada)
		clock.Add(time.Minute)
		finish(t, db, start, instancehub.StateRunning)
	}
	now := clock.Now()
	reads := &readCounter{}
	db.Metrics = reads
	same := func() {
		t.Helper()
		for _, since := range []time.Duration{-12 * time.Hour, -5 * time.Hour, -151 * time.Minute, -time.Minute, 0, time.Hour} {
			for _, until := range []time.Duration{-11 * time.Hour, -5 * time.Hour, -150 * time.Minute, -30 * time.Second, 0, 3 * time.Hour} {
				s, u := now.Add(since), now.Add(until)
				total, recent, err := db.RunningTime(ctx, inst.ID, s, u)
				if err != nil {
					t.Fatal(err)
				}
				wantTotal, wantRecent, err := db.runningTime(ctx, inst.ID, s, u)
				if err != nil {
					t.Fatal(err)
				}
				if total != wantTotal || recent != wantRecent {
					t.Fatalf("since %v until %v: kept %v, %v; the query %v, %v", since, until, total, recent, wantTotal, wantRecent)
				}
			}
		}
	}
	same()
	if total, _, _ := db.RunningTime(ctx, inst.ID, time.Time{}, now); total < 6*time.Hour {
		t.Fatalf("ran %v in all, want more than 6 h", total)
	}
	before := reads.count()
	if _, _, err := db.RunningTime(ctx, inst.ID, now.Add(-time.Hour), now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n := reads.count() - before; n != 0 {
		t.Fatalf("%d reads while nothing changed, want none", n)
	}
	stop := begin(t, db, inst, instancehub.OpStop, ada)
	clock.Add(time.Minute)
	finish(t, db, stop, instancehub.StateStopped)
	now = clock.Now().Add(time.Hour)
	same()
}
