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
