package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
)

// BenchmarkFindInstances1000 reads the first page of the list, newest first,
// among 1,000 instances of 10 users, each with a finished Create and an
// operation in progress.
func BenchmarkFindInstances1000(b *testing.B) {
	db, clock := openTestDB(b)
	ctx := context.Background()
	var users []*instancehub.User
	for i := range 10 {
		users = append(users, createUser(b, db, fmt.Sprintf("user%d@example.com", i), fmt.Sprintf("User %d", i)))
	}
	for i := range 1000 {
		clock.Add(time.Second)
		owner := users[i%len(users)]
		inst := runningInstance(b, db, fmt.Sprintf("instance-%04d", i), owner)
		begin(b, db, inst, instancehub.OpStop, owner)
	}
	filter := instancehub.InstanceFilter{Sort: instancehub.SortCreatedDesc, Limit: 50}

	for b.Loop() {
		instances, total, err := db.FindInstances(ctx, filter)
		if err != nil {
			b.Fatal(err)
		}
		if len(instances) != 50 || total != 1000 || instances[0].LastOperation == nil {
			b.Fatalf("%d instances of %d", len(instances), total)
		}
	}
}

// BenchmarkReserveLoginAttempt reserves a sign-in, and takes it back, from
// an address that holds failures at random emails within the window, as one
// spraying guesses does (nothing refuses them now, so they stay until the
// window passes): 72,000 is what the four password checks at once allow
// in 15 minutes at 50 ms each.
func BenchmarkReserveLoginAttempt(b *testing.B) {
	for _, flood := range []int{0, 72000} {
		b.Run(fmt.Sprintf("failures=%d", flood), func(b *testing.B) {
			db, _ := openTestDB(b)
			ctx := context.Background()
			if flood > 0 {
				if _, err := db.rawExec(ctx, `
					WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
					INSERT INTO login_failures (email, source_ip, at, pending) SELECT 'guess' || i || '@example.com', '203.0.113.50', ?, 0 FROM n`,
					flood, millis(start)); err != nil {
					b.Fatal(err)
				}
			}
			for b.Loop() {
				id, counts, err := db.ReserveLoginAttempt(ctx, "ada@example.com", "203.0.113.50", start, start.Add(-15*time.Minute), nil)
				if err != nil || counts.Address != min(flood, instancehub.MaxLoginCount) {
					b.Fatalf("%+v, %v", counts, err)
				}
				if err := db.ForgetLoginAttempt(ctx, id); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSearchInstances reads the first page of a search, and counts its
// matches, as a search the page cache does not hold does: at 1,000 and
// 100,000 live instances named bench000001 up (and as many deleted ones
// beside them), each with a finished Create. "selective" matches 100, "none"
// nothing, "broad" every instance, and "short" (under 3 characters, which no
// trigram serves) one in ten thousands... a few hundred.
func BenchmarkSearchInstances(b *testing.B) {
	for _, n := range []int{1000, 100_000} {
		db, _ := openTestDB(b)
		ctx := context.Background()
		seedInstances(b, db, n)
		if db.d.postgres() {
			// As autovacuum does after such a load: PostgreSQL's planner
			// chooses between the trigram index and a scan by statistics.
			if _, err := db.rawExec(ctx, `ANALYZE`); err != nil {
				b.Fatal(err)
			}
		}
		searches := []struct{ name, search string }{
			{"selective", fmt.Sprintf("nch%04d", n/1000/2)},
			{"none", "zzz"},
			{"broad", "bench"},
			{"short", "99"},
		}
		for _, s := range searches {
			b.Run(fmt.Sprintf("n=%d/%s", n, s.name), func(b *testing.B) {
				filter := instancehub.InstanceFilter{Search: s.search, Sort: instancehub.SortCreatedDesc, Limit: 50}
				for b.Loop() {
					if _, _, err := db.findInstances(ctx, filter, -1); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// seedInstances adds n live instances named bench000001 up, and n deleted
// ones named gone000001 up, in a few statements: each with a finished
// Create, owned by ten users.
func seedInstances(tb testing.TB, db *DB, n int) {
	tb.Helper()
	ctx := context.Background()
	var owners []int64
	for i := range 10 {
		owners = append(owners, createUser(tb, db, fmt.Sprintf("seed%d@example.com", i), fmt.Sprintf("Seed %d", i)).ID)
	}
	for _, s := range []struct{ prefix, state string }{{"bench", "Running"}, {"gone", "Deleted"}} {
		if _, err := db.rawExec(ctx, `
			WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
			INSERT INTO instances (name, region, vm_size, family, vcpus, memory_gib, state, owner_id, created_by_id, created_at, updated_at)
			SELECT ? || `+db.d.lastChars("'000000' || n.i", "6")+`, 'westeurope', 'Standard_DS3_v2', 'standardDSv2Family', 4, 14,
			       ?, ? + n.i % 10, ? + n.i % 10, CAST(? AS BIGINT) + n.i, CAST(? AS BIGINT) + n.i FROM n`,
			n, s.prefix, s.state, owners[0], owners[0], millis(start), millis(start)); err != nil {
			tb.Fatal(err)
		}
	}
	if _, err := db.rawExec(ctx, `
		INSERT INTO operations (instance_id, kind, status, triggered_by, user_id, started_at, finished_at)
		SELECT id, 'Create', 'Succeeded', 'User', owner_id, created_at, created_at FROM instances`); err != nil {
		tb.Fatal(err)
	}
}
