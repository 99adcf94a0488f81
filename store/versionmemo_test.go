package store

import (
	"context"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
)

// TestARequestReadsTheDataVersionOnce: within a request that carries a
// VersionMemo, the data version is read once, by whichever read comes
// first, and the request's later reads are at that version though others
// commit meanwhile; the request's own write makes it read anew, and so
// does anything that outlives the request.
func TestARequestReadsTheDataVersionOnce(t *testing.T) {
	db, _ := openTestDB(t)
	ada := createUser(t, db, "ada@example.com", "Ada")
	createSession(t, db, "hash-1", ada, start.Add(24*time.Hour))
	version := func(ctx context.Context) int64 {
		t.Helper()
		v, err := db.DataVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	ctx, memo := instancehub.NewContextWithVersionMemo(context.Background())
	if _, err := db.FindSession(ctx, "hash-1", start); err != nil { // the request's first read
		t.Fatal(err)
	}
	first := version(ctx)

	runningInstance(t, db, "by-another-request", ada) // a commit the request did not make
	if now := version(context.Background()); now == first {
		t.Fatalf("the version did not move (%d) after another request's commit", now)
	}
	if v := version(ctx); v != first {
		t.Fatalf("the request read the version again: %d, then %d", first, v)
	}

	// The request's own write: its next read is at the version after it.
	if err := db.SetWorkspaceLimit(ctx, "westeurope", "standardDSv2Family", 48); err != nil {
		t.Fatal(err)
	}
	afterWrite := version(ctx)
	if afterWrite == first || afterWrite != version(context.Background()) {
		t.Fatalf("after the request's write it reads %d (first %d, now %d)", afterWrite, first, version(context.Background()))
	}

	// Past the request's end, the version is read anew at each read.
	memo.End()
	runningInstance(t, db, "after-the-request", ada)
	if v := version(ctx); v == afterWrite || v != version(context.Background()) {
		t.Fatalf("after the request ended, its context reads %d (kept %d)", v, afterWrite)
	}
}
