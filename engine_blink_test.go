package instancehub_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net"
	neturl "net/url"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/azure"
	"github.com/instancehub/instancehub/azure/emulator"
	"github.com/instancehub/instancehub/internal/pgtest"
	"github.com/instancehub/instancehub/internal/testportal"
	"github.com/instancehub/instancehub/store"
)

// The database blinks during every step of every kind of operation, and
// every operation ends as it would have without the blink: a store error
// is never an operation's outcome, and Azure is never undone for one
// (issue 25, item 1). Each blink is real: PostgreSQL's connections are
// terminated (pg_terminate_backend, as a failover, a pooler's restart or a
// proxy's idle reaping do) or the database turns read-only (a standby not
// yet promoted); SQLite's writers meet another connection holding BEGIN
// IMMEDIATE past the store's busy timeout (SQLITE_BUSY), or files that
// refuse writes (the database and its WAL made immutable: a disk gone
// read-only).
//
// A blink opens at each moment after which the engine writes: when the
// operation lists its steps (the first is recorded next), when Azure has
// accepted a step (its resume token next), and when a step is done (the
// next step, or the outcome). It lasts until the engine has met it (its
// log says a write failed and will be tried again), then the database
// answers again.

func TestOperationsOutlastPostgresBlinks(t *testing.T) {
	baselines := operationBaselines(t)
	for _, b := range []blink{pgTerminate, pgReadOnly} {
		t.Run(b.name, func(t *testing.T) {
			forEachKind(t, func(t *testing.T, kind instancehub.OperationKind) {
				url := pgtest.NewDatabase(t)
				d := openDrill(t, func(w testportal.Wiring) *testportal.Portal {
					// A lease far longer than any blink: the portal holds
					// the operation throughout.
					return testportal.OpenPostgresWired(t, url, "r0", time.Minute, emulator.Options{}, w)
				})
				d.blink = b
				d.onPostgres(t, url)
				d.check(t, baselines[kind], d.run(t, kind, func(int) bool { return true }))
			})
		})
	}
}

func TestOperationsOutlastSQLiteBlinks(t *testing.T) {
	baselines := operationBaselines(t)
	t.Run(sqliteReadOnly.name, func(t *testing.T) {
		forEachKind(t, func(t *testing.T, kind instancehub.OperationKind) {
			d := openSQLiteDrill(t)
			d.blink = sqliteReadOnly
			d.check(t, baselines[kind], d.run(t, kind, func(int) bool { return true }))
		})
	})
	// A writer waits out the busy timeout (5 s) before SQLITE_BUSY: each
	// moment gets a portal of its own, all at once, so that the whole
	// takes one wait rather than one per moment.
	t.Run(sqliteBusy.name, func(t *testing.T) {
		var wg sync.WaitGroup
		for _, kind := range operationKinds {
			for i, point := range baselines[kind].points {
				wg.Add(1)
				go func() {
					defer wg.Done()
					name := fmt.Sprintf("%s, %s", kind, point)
					t.Run(name, func(t *testing.T) {
						d := openSQLiteDrill(t)
						d.blink = sqliteBusy
						d.check(t, baselines[kind], d.run(t, kind, func(at int) bool { return at == i }))
					})
				}()
			}
		}
		wg.Wait()
	})
}

var operationKinds = []instancehub.OperationKind{
	instancehub.OpCreate, instancehub.OpStop, instancehub.OpStart, instancehub.OpRestart, instancehub.OpDelete,
}

// forEachKind runs fn for each kind of operation, all at once.
func forEachKind(t *testing.T, fn func(*testing.T, instancehub.OperationKind)) {
	var wg sync.WaitGroup
	for _, kind := range operationKinds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t.Run(string(kind), func(t *testing.T) { fn(t, kind) })
		}()
	}
	wg.Wait()
}

// operationBaselines runs each kind of operation without a blink: the
// moments it passes and how it ends.
func operationBaselines(t *testing.T) map[instancehub.OperationKind]outcome {
	t.Helper()
	baselines := map[instancehub.OperationKind]outcome{}
	for _, kind := range operationKinds {
		d := openSQLiteDrill(t)
		o := d.run(t, kind, func(int) bool { return false })
		if o.status != instancehub.StatusSucceeded || len(o.points) < 2 {
			t.Fatalf("%s without a blink: %+v", kind, o)
		}
		baselines[kind] = o
	}
	return baselines
}

// blink makes the database fail for a moment: open starts it, and the
// function it returns ends it.
type blink struct {
	name string
	open func(t *testing.T, d *drill) (end func())
}

var (
	// pgTerminate terminates every connection of the portal's database,
	// then, while it holds the operations table, every one that waits to
	// write.
	pgTerminate = blink{"terminated connections", func(t *testing.T, d *drill) func() {
		tx, err := d.admin.Begin()
		if err != nil {
			t.Errorf("blink: %v", err)
			return func() {}
		}
		if _, err := tx.Exec(`LOCK TABLE operations IN EXCLUSIVE MODE`); err != nil {
			t.Errorf("blink: %v", err)
		}
		terminate := func(where string) {
			// pg_stat_activity is read once per transaction unless its
			// snapshot is cleared.
			_, err := tx.Exec(`SELECT pg_stat_clear_snapshot()`)
			if err == nil {
				_, err = tx.Exec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
					WHERE datname = current_database() AND pid <> pg_backend_pid()` + where)
			}
			if err != nil {
				t.Errorf("terminate connections: %v", err)
			}
		}
		terminate("")
		stop, stopped := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(stopped)
			for {
				select {
				case <-stop:
					return
				case <-time.After(5 * time.Millisecond):
					terminate(` AND wait_event_type = 'Lock'`)
				}
			}
		}()
		return func() {
			close(stop)
			<-stopped
			if err := tx.Rollback(); err != nil {
				t.Error(err)
			}
		}
	}}

	// pgReadOnly makes every new connection read-only, as a standby's are
	// while a failover promotes another, and ends those open.
	pgReadOnly = blink{"read-only", func(t *testing.T, d *drill) func() {
		readOnly := func(setting string) {
			for _, q := range []string{
				`DO $$ BEGIN EXECUTE format('ALTER DATABASE %I ` + setting + `', current_database()); END $$`,
				`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
				 WHERE datname = current_database() AND pid <> pg_backend_pid()`,
			} {
				if _, err := d.admin.Exec(q); err != nil {
					t.Errorf("%s: %v", q, err)
				}
			}
		}
		readOnly("SET default_transaction_read_only = on")
		return func() { readOnly("RESET default_transaction_read_only") }
	}}

	// sqliteBusy holds SQLite's write lock from a connection of its own,
	// as another process's BEGIN IMMEDIATE does.
	sqliteBusy = blink{"SQLITE_BUSY", func(t *testing.T, d *drill) func() {
		db, err := sql.Open("sqlite", "file:"+d.dbPath()+"?_pragma=busy_timeout(5000)&_txlock=immediate")
		if err != nil {
			t.Errorf("blink: %v", err)
			return func() {}
		}
		tx, err := db.Begin()
		if err != nil {
			t.Errorf("blink: %v", err)
			db.Close()
			return func() {}
		}
		return func() {
			if err := tx.Rollback(); err != nil {
				t.Error(err)
			}
			db.Close()
		}
	}}

	// sqliteReadOnly makes the database's files immutable, which even root
	// cannot write (chattr +i), as a disk remounted read-only refuses
	// writes, then writable again.
	sqliteReadOnly = blink{"read-only files", func(t *testing.T, d *drill) func() {
		files := []string{d.dbPath(), d.dbPath() + "-wal", d.dbPath() + "-shm"}
		chattr := func(flag string) {
			if out, err := exec.Command("chattr", append([]string{flag}, files...)...).CombinedOutput(); err != nil {
				t.Errorf("chattr %s: %v: %s", flag, err, out)
			}
		}
		chattr("+i")
		return func() { chattr("-i") }
	}}
)

// drill is a portal whose database blinks at chosen moments of one
// operation.
type drill struct {
	portal *testportal.Portal
	cloud  *momentCloud
	log    *watchedLog
	blink  blink
	admin  *sql.DB // the test's own connection to PostgreSQL

	mu    sync.Mutex
	fault []string // moments whose blink the engine never met
	ends  sync.WaitGroup
}

func openSQLiteDrill(t *testing.T) *drill {
	dir := t.TempDir()
	return openDrill(t, func(w testportal.Wiring) *testportal.Portal {
		return testportal.OpenWired(t, dir, emulator.Options{Path: filepath.Join(dir, "emulator.db")}, w)
	})
}

func openDrill(t *testing.T, open func(testportal.Wiring) *testportal.Portal) *drill {
	d := &drill{log: newWatchedLog()}
	d.portal = open(testportal.Wiring{
		Cloud: func(c *azure.Cloud) instancehub.Cloud {
			d.cloud = &momentCloud{Cloud: c}
			return d.cloud
		},
		Logger: slog.New(d.log),
	})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the portal's log:\n%s", d.log.text())
		}
	})
	return d
}

func (d *drill) dbPath() string { return filepath.Join(d.portal.Dir, "instancehub.db") }

// onPostgres points the drill's blinks at the portal's PostgreSQL
// database at url, through a connection of the test's own.
func (d *drill) onPostgres(t *testing.T, url string) {
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	d.admin = db
}

// outcome is how an operation ended, and the moments it passed.
type outcome struct {
	status    instancehub.OperationStatus
	errorCode string
	state     instancehub.State
	power     string // the VM's power state in Azure; "" when it has none
	deletes   int64  // delete requests to Azure
	points    []string
}

// run prepares the instance "blinky" for kind, then carries kind out,
// blinking the database at each moment blinkAt picks (by its index), and
// returns how the operation ended.
func (d *drill) run(t *testing.T, kind instancehub.OperationKind, blinkAt func(int) bool) outcome {
	t.Helper()
	p := d.portal
	req := testportal.Request("blinky")
	req.SSHEnabled, req.SSHPublicKey = true, testportal.SSHKey // a public IP too: every step
	if kind != instancehub.OpCreate {
		if _, err := p.Service.CreateInstance(p.Ctx, req); err != nil {
			t.Fatal(err)
		}
		p.WaitState(t, "blinky", instancehub.StateRunning)
		if kind == instancehub.OpStart {
			if _, err := p.Service.Act(p.Ctx, "blinky", instancehub.OpStop); err != nil {
				t.Fatal(err)
			}
			p.WaitState(t, "blinky", instancehub.StateStopped)
		}
	}
	deletesBefore := d.deletes()
	d.cloud.watch(kind, "blinky", func(i int, point string) {
		if !blinkAt(i) {
			return
		}
		d.log.expect()
		end := d.blink.open(t, d)
		d.ends.Add(1)
		go func() {
			defer d.ends.Done()
			defer end()
			if !d.log.met(30 * time.Second) {
				d.mu.Lock()
				d.fault = append(d.fault, point)
				d.mu.Unlock()
			}
		}()
	})
	var inst *instancehub.Instance
	var err error
	if kind == instancehub.OpCreate {
		inst, err = p.Service.CreateInstance(p.Ctx, req)
	} else {
		inst, err = p.Service.Act(p.Ctx, "blinky", kind)
	}
	if err != nil {
		t.Fatal(err)
	}
	op := d.waitOperation(t, inst.ID)
	d.ends.Wait()
	if len(d.fault) > 0 {
		t.Errorf("the engine never met the blink at %s", strings.Join(d.fault, ", "))
	}
	o := outcome{status: op.Status, errorCode: op.ErrorCode, deletes: d.deletes() - deletesBefore, points: d.cloud.passed()}
	after, err := p.DB.FindInstanceByID(p.Ctx, inst.ID)
	if err != nil {
		t.Fatal(err)
	}
	o.state = after.State
	if vm, err := p.Cloud.VM(p.Ctx, after); err == nil {
		o.power = vm.PowerState
	} else if instancehub.ErrorCode(err) != instancehub.ENOTFOUND {
		t.Fatal(err)
	}
	return o
}

// waitOperation waits until the last operation of the instance ends.
func (d *drill) waitOperation(t *testing.T, instanceID int64) *instancehub.Operation {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		ops, err := d.portal.DB.FindOperations(d.portal.Ctx, instanceID, 1)
		if err == nil && len(ops) == 1 && ops[0].Status != instancehub.StatusInProgress {
			return ops[0]
		}
		if time.Now().After(deadline) {
			if len(ops) == 1 {
				t.Fatalf("the operation never ended: %+v", *ops[0])
			}
			t.Fatalf("the operation never ended: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (d *drill) deletes() int64 { return deleteCalls(d.portal.Emu) }

// check compares an operation's end with its end without a blink: the
// same outcome and state, in Azure too, reached through the same moments,
// with nothing of Azure undone.
func (d *drill) check(t *testing.T, want, got outcome) {
	t.Helper()
	if got.status != want.status || got.errorCode != want.errorCode || got.state != want.state || got.power != want.power {
		t.Errorf("ended %s %q, instance %s, VM %q; without the blink %s %q, %s, %q",
			got.status, got.errorCode, got.state, got.power, want.status, want.errorCode, want.state, want.power)
	}
	if got.deletes != want.deletes {
		t.Errorf("%d delete requests to Azure, %d without the blink", got.deletes, want.deletes)
	}
	if !slices.Equal(got.points, want.points) {
		t.Errorf("moments passed:\n%s\nwithout the blink:\n%s", strings.Join(got.points, "\n"), strings.Join(want.points, "\n"))
	}
}

// momentCloud is the real cloud, which reports the moments of an operation
// after which the engine writes to the store.
type momentCloud struct {
	*azure.Cloud

	mu     sync.Mutex
	kind   instancehub.OperationKind
	name   string
	points []string
	at     func(i int, point string)
}

// watch reports the moments of the next operation of kind on the instance
// name to at.
func (c *momentCloud) watch(kind instancehub.OperationKind, name string, at func(int, string)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.kind, c.name, c.at, c.points = kind, name, at, nil
}

func (c *momentCloud) passed() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.points)
}

func (c *momentCloud) reach(kind instancehub.OperationKind, inst *instancehub.Instance, point string) {
	c.mu.Lock()
	if c.at == nil || kind != c.kind || inst.Name != c.name {
		c.mu.Unlock()
		return
	}
	i, at := len(c.points), c.at
	c.points = append(c.points, point)
	c.mu.Unlock()
	at(i, point)
}

func (c *momentCloud) Steps(kind instancehub.OperationKind, inst *instancehub.Instance) []string {
	steps := c.Cloud.Steps(kind, inst)
	c.reach(kind, inst, "its steps listed")
	return steps
}

func (c *momentCloud) BeginStep(ctx context.Context, kind instancehub.OperationKind, step string, inst *instancehub.Instance) (string, error) {
	token, err := c.Cloud.BeginStep(ctx, kind, step, inst)
	if err == nil {
		c.reach(kind, inst, step+" accepted")
	}
	return token, err
}

func (c *momentCloud) PollStep(ctx context.Context, kind instancehub.OperationKind, step string, inst *instancehub.Instance, token string) (bool, error) {
	done, err := c.Cloud.PollStep(ctx, kind, step, inst, token)
	if done && err == nil {
		c.reach(kind, inst, step+" done")
	}
	return done, err
}

// watchedLog keeps the portal's log, and tells when the engine has met a
// blink: it says a write failed and will be tried again.
type watchedLog struct {
	*logBook
	h slog.Handler
}

type logBook struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	retried chan struct{}
}

func newWatchedLog() *watchedLog {
	b := &logBook{retried: make(chan struct{}, 1)}
	return &watchedLog{logBook: b, h: slog.NewTextHandler(&b.buf, &slog.HandlerOptions{Level: slog.LevelDebug})}
}

const retryMessage = "the database did not record an operation's progress; trying again"

func (l *watchedLog) Enabled(context.Context, slog.Level) bool { return true }

func (l *watchedLog) Handle(ctx context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if r.Message == retryMessage {
		select {
		case l.retried <- struct{}{}:
		default:
		}
	}
	return l.h.Handle(ctx, r)
}

func (l *watchedLog) WithAttrs(as []slog.Attr) slog.Handler {
	return &watchedLog{logBook: l.logBook, h: l.h.WithAttrs(as)}
}

func (l *watchedLog) WithGroup(name string) slog.Handler {
	return &watchedLog{logBook: l.logBook, h: l.h.WithGroup(name)}
}

// expect forgets earlier retries: the next blink waits for one of its own.
func (b *logBook) expect() {
	select {
	case <-b.retried:
	default:
	}
}

// met waits for a retry, at most for d.
func (b *logBook) met(d time.Duration) bool {
	select {
	case <-b.retried:
		return true
	case <-time.After(d):
		return false
	}
}

func (b *logBook) text() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestAPortalCutOffFromItsDatabaseLetsGo: a replica driving a create loses
// its database (a partition: nothing it sends arrives) right
// after Azure accepted the VM. It tries to record the step while its lease
// surely holds, then lets the operation go and touches Azure no more;
// another replica claims it once the lease lapses and finishes it, from
// the step recorded: the one create, succeeded, nothing of Azure undone.
// When the partition heals, the first replica writes nothing more.
func TestAPortalCutOffFromItsDatabaseLetsGo(t *testing.T) {
	const lease = 2 * time.Second
	url := pgtest.NewDatabase(t)
	b := testportal.OpenPostgres(t, url, "b", lease, emulator.Options{})
	proxy := newCutProxy(t, url)
	dbA, err := store.OpenPostgres(context.Background(), proxy.url)
	if err != nil {
		t.Fatal(err)
	}
	defer dbA.Close()
	logA := newWatchedLog()
	cloudA := &momentCloud{Cloud: b.Cloud}
	a := &instancehub.Engine{Instances: dbA, Cloud: cloudA, Logger: slog.New(logA),
		PollInterval: 5 * time.Millisecond, Replica: "a", LeaseFor: lease}
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer a.Stop()
	defer func() {
		if t.Failed() {
			t.Logf("replica a's log:\n%s", logA.text())
		}
	}()
	b.Service.Engine = a // the create reaches replica a

	var mu sync.Mutex
	var cut time.Time
	var after []string // what replica a asked of Azure once cut off
	cloudA.watch(instancehub.OpCreate, "cutoff", func(_ int, point string) {
		mu.Lock()
		defer mu.Unlock()
		if !cut.IsZero() {
			after = append(after, point)
		} else if point == "virtual machine accepted" {
			proxy.cut()
			cut = time.Now()
		}
	})
	deletes := deleteCalls(b.Emu)
	inst, err := b.Service.CreateInstance(b.Ctx, testportal.Request("cutoff"))
	if err != nil {
		t.Fatal(err)
	}
	running := b.WaitState(t, "cutoff", instancehub.StateRunning)
	mu.Lock()
	tookOver := time.Since(cut)
	mu.Unlock()
	proxy.heal()

	ops, err := b.DB.FindOperations(b.Ctx, inst.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) != 1 || ops[0].Status != instancehub.StatusSucceeded {
		t.Fatalf("operations = %+v, want the one create, succeeded", ops)
	}
	if n := deleteCalls(b.Emu) - deletes; n != 0 {
		t.Errorf("%d delete requests to Azure: the create was undone", n)
	}
	if vm, err := b.Cloud.VM(b.Ctx, running); err != nil || vm.PowerState != "running" {
		t.Errorf("the VM: %+v, %v", vm, err)
	}
	if !strings.Contains(logA.text(), "left to the portal that claims it") {
		t.Error("replica a never let the operation go")
	}
	// Healed, replica a has nothing left to write: the outcome stays b's.
	time.Sleep(lease)
	if op, err := b.DB.FindOperation(b.Ctx, ops[0].ID); err != nil || op.Status != instancehub.StatusSucceeded || op.FinishedAt != ops[0].FinishedAt {
		t.Errorf("after the partition healed: %+v, %v", op, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(after) > 0 {
		t.Errorf("replica a went on in Azure once cut off: %s", strings.Join(after, ", "))
	}
	t.Logf("replica b finished the create %v after replica a was cut off (lease %v)", tookOver.Round(time.Millisecond), lease)
}

func deleteCalls(emu *emulator.Emulator) int64 {
	var n int64
	for _, api := range []string{"VirtualMachinesClient.BeginDelete", "InterfacesClient.BeginDelete",
		"PublicIPAddressesClient.BeginDelete", "SecurityGroupsClient.BeginDelete"} {
		n += emu.CallsTo(api)
	}
	return n
}

// cutProxy passes a portal's connections to PostgreSQL until cut, as a
// partition does: then nothing passes, neither on the connections open
// (whatever is sent stalls, and the connection is dropped when the
// partition heals) nor on new ones (held without an answer).
type cutProxy struct {
	url string // the database's URL through the proxy

	mu     sync.Mutex
	isCut  bool
	healed chan struct{}
}

func newCutProxy(t *testing.T, dbURL string) *cutProxy {
	u, err := neturl.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	target := u.Host
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	u.Host = l.Addr().String()
	p := &cutProxy{url: u.String(), healed: make(chan struct{})}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go p.serve(c, target)
		}
	}()
	t.Cleanup(p.heal)
	return p
}

func (p *cutProxy) serve(c net.Conn, target string) {
	defer c.Close()
	if !p.pass() {
		return
	}
	up, err := net.Dial("tcp", target)
	if err != nil {
		return
	}
	defer up.Close()
	done := make(chan struct{}, 2)
	go func() { p.pump(up, c); done <- struct{}{} }()
	go func() { p.pump(c, up); done <- struct{}{} }()
	<-done
}

// pump copies from src to dst while the proxy passes.
func (p *cutProxy) pump(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if !p.pass() {
				return
			}
			if _, err := dst.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// pass reports whether data may pass; while cut, it waits for the
// partition to heal and says no: what was cut off is lost.
func (p *cutProxy) pass() bool {
	p.mu.Lock()
	isCut, healed := p.isCut, p.healed
	p.mu.Unlock()
	if isCut {
		<-healed
		return false
	}
	return true
}

func (p *cutProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.isCut {
		p.isCut, p.healed = true, make(chan struct{})
	}
}

func (p *cutProxy) heal() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.isCut {
		p.isCut = false
		close(p.healed)
	}
}
