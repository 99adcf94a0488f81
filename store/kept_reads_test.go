package store

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/instancehub/instancehub"
)

// TestFindUsersKeptUntilACommit: FindUsers' answers are kept while nothing
// is committed (the list's owner filter asks for them at every render);
// each commit that changes what they show is seen at the next read, and a
// caller changing what it got changes nothing kept.
func TestFindUsersKeptUntilACommit(t *testing.T) {
	db, _ := openTestDB(t)
	ctx := context.Background()
	ada := createUser(t, db, "ada@example.com", "Ada")
	shown := func() []string {
		t.Helper()
		users, err := db.FindUsers(ctx, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, u := range users {
			out = append(out, u.Name+" "+instancehub.Plural(u.Instances, "instance"))
			u.Name = "changed by a caller"
		}
		return out
	}
	for _, step := range []struct {
		what string
		do   func()
		want []string
	}{
		{"at first", func() {}, []string{"Ada 0 instances"}},
		{"again", func() {}, []string{"Ada 0 instances"}},
		{"an instance of Ada's", func() { createInstance(t, db, "ada-1", ada) }, []string{"Ada 1 instance"}},
		{"a new account", func() { createUser(t, db, "bob@example.com", "Bob") }, []string{"Ada 1 instance", "Bob 0 instances"}},
		{"a rename", func() {
			if _, err := db.rawExec(ctx, `UPDATE users SET name = 'Ada L.' WHERE id = ?`, ada.ID); err != nil {
				t.Fatal(err)
			}
		}, []string{"Ada L. 1 instance", "Bob 0 instances"}},
	} {
		step.do()
		if got := shown(); !slices.Equal(got, step.want) {
			t.Errorf("%s: FindUsers shows %q, want %q", step.what, got, step.want)
		}
	}
	if users, err := db.FindUsers(ctx, "bob", 0); err != nil || len(users) != 1 || users[0].Name != "Bob" {
		t.Errorf("FindUsers(bob) = %v, %v; want Bob alone", users, err)
	}
}

// TestNothingToTellIsKeptUntilACommit: a person found with nothing waiting
// to be told is not asked again while nothing is committed, and a notice
// or a quota answer committed since is told at the next visit, once.
func TestNothingToTellIsKeptUntilACommit(t *testing.T) {
	db, clock := openTestDB(t)
	ctx := context.Background()
	ada := createUser(t, db, "ada@example.com", "Ada")
	olu := createUser(t, db, "olu@example.com", "Olu")
	for range 2 {
		if notices, err := db.TakeUserNotices(ctx, ada.ID); err != nil || len(notices) != 0 {
			t.Fatalf("notices before any: %q, %v", notices, err)
		}
		if answers, err := db.TakeQuotaAnswers(ctx, ada.ID); err != nil || len(answers) != 0 {
			t.Fatalf("quota answers before any: %v, %v", answers, err)
		}
	}
	if err := db.AddUserNotice(ctx, ada.ID, "The scheduled start of ada-1 failed.", clock.Now()); err != nil {
		t.Fatal(err)
	}
	if notices, err := db.TakeUserNotices(ctx, ada.ID); err != nil || !slices.Equal(notices, []string{"The scheduled start of ada-1 failed."}) {
		t.Errorf("notices after one was added: %q, %v", notices, err)
	}
	if notices, err := db.TakeUserNotices(ctx, ada.ID); err != nil || len(notices) != 0 {
		t.Errorf("notices once told: %q, %v", notices, err)
	}

	ask := &instancehub.QuotaRequest{UserID: ada.ID, Region: "westeurope", Family: "standardNCFamily", VCPUs: 6, Reason: "GPU training"}
	if err := db.AddQuotaRequest(ctx, ask); err != nil {
		t.Fatal(err)
	}
	if answers, err := db.TakeQuotaAnswers(ctx, ada.ID); err != nil || len(answers) != 0 {
		t.Fatalf("quota answers while the request is open: %v, %v", answers, err)
	}
	decline := &instancehub.QuotaRequest{ID: ask.ID, Region: ask.Region, Family: ask.Family, DecidedByID: olu.ID, Answer: "Not this month."}
	if err := db.DeclineQuotaRequest(ctx, decline); err != nil {
		t.Fatal(err)
	}
	if answers, err := db.TakeQuotaAnswers(ctx, ada.ID); err != nil || len(answers) != 1 || answers[0].ID != ask.ID {
		t.Errorf("quota answers after the decline: %v, %v; want the request", answers, err)
	}
	if answers, err := db.TakeQuotaAnswers(ctx, ada.ID); err != nil || len(answers) != 0 {
		t.Errorf("quota answers once told: %v, %v", answers, err)
	}
}

// TestDetailsReadsKeptUntilACommit: an instance's latest operations and
// its last setup run, which its details page reads at every view, are kept
// until a commit, by this portal or by another process on the same file
// (the CLI): read again, they ask the database nothing. What a caller
// changes in an answer stays its own.
func TestDetailsReadsKeptUntilACommit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "instancehub.db")
	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	other, err := Open(context.Background(), path) // another process's
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	ctx := context.Background()
	ada := createUser(t, db, "ada@example.com", "Ada")
	inst, create := createInstance(t, db, "ada-1", ada)
	reads := &readCounter{}
	db.Metrics = reads
	shown := func() string {
		t.Helper()
		ops, err := db.FindOperations(ctx, inst.ID, instancehub.HistoryLength)
		if err != nil {
			t.Fatal(err)
		}
		run, err := db.SetupRun(ctx, inst.ID)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, op := range ops {
			out = append(out, string(op.Kind)+" "+string(op.Status)+" "+op.ErrorMessage)
			op.ErrorMessage = "changed by a caller"
		}
		if run == nil {
			out = append(out, "no setup run")
		} else {
			out = append(out, fmt.Sprintf("setup exit %d", run.ExitCode))
			run.ExitCode = 99
		}
		return strings.Join(out, "; ")
	}
	for _, step := range []struct {
		what string
		do   func()
		want string
	}{
		{"at first", func() {}, "Create InProgress ; no setup run"},
		{"again", func() {}, "Create InProgress ; no setup run"},
		{"the create fails here", func() {
			if _, err := db.rawExec(ctx, `UPDATE operations SET status = 'Failed', error_message = 'no room' WHERE id = ?`, create.ID); err != nil {
				t.Fatal(err)
			}
		}, "Create Failed no room; no setup run"},
		{"a setup run recorded", func() {
			if err := db.RecordSetupRun(ctx, inst.ID, &instancehub.SetupResult{Phase: instancehub.SetupCreation, ExitCode: 3, Log: "x"}); err != nil {
				t.Fatal(err)
			}
		}, "Create Failed no room; setup exit 3"},
		{"again", func() {}, "Create Failed no room; setup exit 3"},
		{"another process writes", func() {
			if _, err := other.rawExec(ctx, `UPDATE operations SET error_message = 'told by the CLI' WHERE id = ?`, create.ID); err != nil {
				t.Fatal(err)
			}
			if err := other.RecordSetupRun(ctx, inst.ID, &instancehub.SetupResult{Phase: instancehub.SetupCreation, ExitCode: 0, Log: "y"}); err != nil {
				t.Fatal(err)
			}
		}, "Create Failed told by the CLI; setup exit 0"},
	} {
		step.do()
		before := reads.count()
		if got := shown(); got != step.want {
			t.Errorf("%s: shows %q, want %q", step.what, got, step.want)
		}
		if n := reads.count() - before; step.what == "again" && n != 0 {
			t.Errorf("%s: %d reads, want none", step.what, n)
		} else if step.what != "again" && n == 0 {
			t.Errorf("%s: nothing read after a commit", step.what)
		}
	}
}

// TestDataVersionOutlastsCancelledReads: requests that end (a browser gone,
// wrk stopping) while the data version is read never make it go back, and
// reads kept by it stay found. A read interrupted midway used to cost the
// watching connection, whose new count started again from 1: every kept
// read then refused what it read as older than what it held (make
// bench-http's search renders fell from 5,000 req/s to 500), and a version
// counted again could serve what was kept at it before. On SQLite, a
// connection replaced all the same counts on from the last version.
func TestDataVersionOutlastsCancelledReads(t *testing.T) {
	db, _ := openTestDB(t)
	ctx := context.Background()
	ada := createUser(t, db, "ada@example.com", "Ada")
	createInstance(t, db, "ada-1", ada)
	first, err := db.DataVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5000 {
		cctx, cancel := context.WithCancel(ctx)
		if i%2 == 0 {
			go cancel() // midway, or about
		} else {
			cancel()
		}
		if v, err := db.DataVersion(cctx); err == nil && v < first {
			t.Fatalf("read %d, cancelled: version %d, before %d", i, v, first)
		}
		cancel()
	}
	if v, err := db.DataVersion(ctx); err != nil || v != first {
		t.Fatalf("after the cancelled reads: version %d, %v; want %d, nothing committed", v, err, first)
	}
	reads := &readCounter{}
	db.Metrics = reads
	filter := instancehub.InstanceFilter{Limit: 50}
	for range 2 {
		if _, total, err := db.FindInstances(ctx, filter); err != nil || total != 1 {
			t.Fatalf("FindInstances: %d, %v", total, err)
		}
	}
	if n := reads.count(); n > 2 { // the first read: the page and its count
		t.Fatalf("%d reads for a page asked twice, want the first's alone", n)
	}
	if c, ok := db.changes.(*changes); ok {
		// A connection that breaks all the same: the next counts on.
		last, _ := db.DataVersion(ctx)
		c.mu.Lock()
		c.drop()
		c.mu.Unlock()
		v, err := db.DataVersion(ctx)
		if err != nil || v <= last {
			t.Fatalf("after a new connection: version %d, %v; want more than %d", v, err, last)
		}
		createInstance(t, db, "ada-2", ada)
		if w, err := db.DataVersion(ctx); err != nil || w <= v {
			t.Fatalf("after a commit: version %d, %v; want more than %d", w, err, v)
		}
	}
}
