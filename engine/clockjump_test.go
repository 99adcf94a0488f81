package engine_test

import (
	"context"
	"database/sql"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/azure/emulator"
	"github.com/instancehub/instancehub/engine"
	"github.com/instancehub/instancehub/internal/pgtest"
	"github.com/instancehub/instancehub/internal/testportal"
	"github.com/instancehub/instancehub/store"
)

// jumpClock is a replica's wall clock, which a test moves as an NTP step or
// an operator would: forward or back, at once.
type jumpClock struct{ offset atomic.Int64 }

func (c *jumpClock) Now() time.Time       { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *jumpClock) jump(d time.Duration) { c.offset.Add(int64(d)) }
func (c *jumpClock) String() string       { return time.Duration(c.offset.Load()).String() }

// TestAClockJumpTakesNothingOver: two replicas on PostgreSQL, a driving a
// create. b's wall clock (its engine's and its store's, as a process's)
// jumps an hour forward and back, then a's an hour back and forward, and
// forward and back, each for three leases: b takes nothing of a's over, a
// loses nothing, and the create ends succeeded, driven by a throughout.
func TestAClockJumpTakesNothingOver(t *testing.T) {
	const lease = time.Second
	url := pgtest.NewDatabase(t)
	p := testportal.OpenPostgres(t, url, "p", lease, emulator.Options{Latency: 2}) // a create of about 30 s
	p.Engine.Stop()
	clocks := map[string]*jumpClock{"a": {}, "b": {}}
	logs := map[string]*watchedLog{}
	engines := map[string]*engine.Engine{}
	for _, name := range []string{"a", "b"} {
		db, err := store.OpenPostgres(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		db.Now = clocks[name].Now
		logs[name] = newWatchedLog()
		e := &engine.Engine{Instances: db, Cloud: p.Cloud, Logger: slog.New(logs[name]), Now: clocks[name].Now,
			PollInterval: 20 * time.Millisecond, Replica: name, LeaseFor: lease}
		if err := e.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		defer e.Stop()
		engines[name] = e
	}
	defer func() {
		if t.Failed() {
			t.Logf("a's log:\n%s\nb's log:\n%s", logs["a"].text(), logs["b"].text())
		}
	}()
	p.Service.Engine = engines["a"]
	inst, err := p.Service.CreateInstance(p.Ctx, testportal.Request("jumpy"))
	if err != nil {
		t.Fatal(err)
	}
	admin, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	owner := func() string {
		var o string
		if err := admin.QueryRow(`SELECT lease_owner FROM operations WHERE id = $1`, inst.LastOperation.ID).Scan(&o); err != nil {
			t.Fatal(err)
		}
		return o
	}
	for _, jump := range []struct {
		clock string
		by    time.Duration
	}{
		{"b", time.Hour}, {"b", -time.Hour},
		{"a", -time.Hour}, {"a", time.Hour},
		{"a", time.Hour}, {"a", -time.Hour},
	} {
		clocks[jump.clock].jump(jump.by)
		// Three leases, in which b looks for lapsed ones thirty times
		// and a renews nine times.
		for end := time.Now().Add(3 * lease); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
			if o := owner(); o != "a" {
				t.Fatalf("with a's clock %s and b's %s, the create is driven by %q", clocks["a"], clocks["b"], o)
			}
		}
	}
	running := p.WaitState(t, "jumpy", instancehub.StateRunning)
	if op := running.LastOperation; op.ID != inst.LastOperation.ID || op.Status != instancehub.StatusSucceeded {
		t.Errorf("the create: %+v", op)
	}
	if strings.Contains(logs["b"].text(), "resuming operation") || strings.Contains(logs["a"].text(), "taken over") ||
		strings.Contains(logs["a"].text(), "left to the portal") {
		t.Error("the create changed hands")
	}
}
