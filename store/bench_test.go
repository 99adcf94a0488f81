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
