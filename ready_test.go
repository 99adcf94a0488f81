package instancehub_test

import (
	"context"
	"database/sql"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/azure/emulator"
	"github.com/instancehub/instancehub/internal/pgtest"
	"github.com/instancehub/instancehub/internal/testportal"
)

// TestReadyAnswersWithinASecond: a database that does not answer (a lock
// held on what readiness reads, as a migration holds it; a connection
// stalled by a partition) makes the portal not ready once ReadyWithin has
// passed on the service's clock, rather than holding the probe for as long
// as the database takes (a whole 60 s partition before); the query is
// called off; once the database answers again, so does readiness.
func TestReadyAnswersWithinASecond(t *testing.T) {
	t.Run("a held lock", func(t *testing.T) {
		url := pgtest.NewDatabase(t)
		p := testportal.OpenPostgres(t, url, "r0", time.Minute, emulator.Options{})
		clock := newWaitClock()
		p.Service.Wait = clock.wait
		admin, err := sql.Open("pgx", url)
		if err != nil {
			t.Fatal(err)
		}
		defer admin.Close()
		tx, err := admin.Begin()
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback() // whatever happens: the store's closing waits for its queries
		if _, err := tx.Exec(`LOCK TABLE goose_db_version IN ACCESS EXCLUSIVE MODE`); err != nil {
			t.Fatal(err)
		}
		notReady(t, p, clock)
		// The query that waited on the lock was called off.
		waitFor(t, "the readiness query to be called off", func() bool {
			var waiting int
			_, _ = tx.Exec(`SELECT pg_stat_clear_snapshot()`)
			err := tx.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
				AND wait_event_type = 'Lock' AND query LIKE '%goose_db_version%'`).Scan(&waiting)
			return err == nil && waiting == 0
		})
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		ready(t, p)
	})
	t.Run("a stalled connection", func(t *testing.T) {
		url := pgtest.NewDatabase(t)
		proxy := newCutProxy(t, url)
		p := testportal.OpenPostgres(t, proxy.url, "r0", time.Minute, emulator.Options{})
		clock := newWaitClock()
		p.Service.Wait = clock.wait
		proxy.cut()
		defer proxy.heal()
		notReady(t, p, clock)
		proxy.heal()
		ready(t, p)
	})
}

// notReady asks p whether it is ready while its database does not answer:
// the service waits ReadyWithin on its clock, and once that has passed it
// answers not ready.
func notReady(t *testing.T, p *testportal.Portal, clock *waitClock) {
	t.Helper()
	answer := make(chan error, 1)
	go func() {
		_, err := p.Service.Ready(context.Background())
		answer <- err
	}()
	if d := clock.asked(t); d != instancehub.ReadyWithin {
		t.Fatalf("readiness waits %v, want %v", d, instancehub.ReadyWithin)
	}
	select {
	case err := <-answer:
		t.Fatalf("answered before its time was up, with the database held: %v", err)
	default:
	}
	clock.advance(instancehub.ReadyWithin)
	select {
	case err := <-answer:
		if instancehub.ErrorCode(err) != instancehub.EUNAVAILABLE || !strings.Contains(err.Error(), "does not answer within 1s") {
			t.Fatalf("readiness = %v, want EUNAVAILABLE: the database does not answer within 1s", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("readiness never answered")
	}
}

func ready(t *testing.T, p *testportal.Portal) {
	t.Helper()
	if v, err := p.Service.Ready(context.Background()); err != nil || v == 0 {
		t.Fatalf("readiness once the database answers: %d, %v", v, err)
	}
}

// waitFor waits until cond holds, for at most 30 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 30 s for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitClock is a clock for Service.Wait: a wait ends when the test has
// moved the clock past it, or when its context ends.
type waitClock struct {
	mu      sync.Mutex
	now     time.Duration
	waits   []clockWait
	started chan time.Duration
}

type clockWait struct {
	until time.Duration
	done  chan struct{}
}

func newWaitClock() *waitClock { return &waitClock{started: make(chan time.Duration, 16)} }

func (c *waitClock) wait(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	w := clockWait{until: c.now + d, done: make(chan struct{})}
	c.waits = append(c.waits, w)
	c.mu.Unlock()
	c.started <- d
	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// asked returns how long the next wait is for.
func (c *waitClock) asked(t *testing.T) time.Duration {
	t.Helper()
	select {
	case d := <-c.started:
		return d
	case <-time.After(30 * time.Second):
		t.Fatal("nothing waited on the clock")
		return 0
	}
}

func (c *waitClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now += d
	kept := c.waits[:0]
	for _, w := range c.waits {
		if w.until <= c.now {
			close(w.done)
		} else {
			kept = append(kept, w)
		}
	}
	c.waits = kept
}
