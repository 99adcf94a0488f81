package store

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
)

func TestRoleAssignments(t *testing.T) {
	db, _ := openTestDB(t)
	ctx := context.Background()
	ada := &instancehub.User{Email: "ada@example.com", Name: "Ada"}
	bob := &instancehub.User{Email: "bob@example.com", Name: "Bob"}
	for _, u := range []*instancehub.User{ada, bob} {
		if err := db.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	owner := &instancehub.RoleAssignment{UserID: ada.ID, Role: instancehub.RoleOwner, Source: instancehub.SourceCLI}
	if err := db.AssignRole(ctx, owner); err != nil {
		t.Fatal(err)
	}
	ds := &instancehub.RoleAssignment{UserID: bob.ID, Role: instancehub.RoleDataScientist, AssignedByID: ada.ID}
	if err := db.AssignRole(ctx, ds); err != nil {
		t.Fatal(err)
	}
	reader := &instancehub.RoleAssignment{UserID: bob.ID, Role: instancehub.RoleReader, AssignedByID: ada.ID}
	if err := db.AssignRole(ctx, reader); err != nil {
		t.Fatal(err)
	}
	if err := db.AssignRole(ctx, &instancehub.RoleAssignment{UserID: bob.ID, Role: instancehub.RoleReader}); instancehub.ErrorCode(err) != instancehub.ECONFLICT {
		t.Errorf("assign twice: %v", err)
	}
	if err := db.AssignRole(ctx, &instancehub.RoleAssignment{UserID: 999, Role: instancehub.RoleReader}); instancehub.ErrorCode(err) != instancehub.ENOTFOUND {
		t.Errorf("unknown user: %v", err)
	}
	roles, err := db.UserRoles(ctx, bob.ID)
	if err != nil || len(roles) != 2 || roles[0] != instancehub.RoleDataScientist || roles[1] != instancehub.RoleReader {
		t.Errorf("bob's roles = %v, %v", roles, err)
	}
	all, err := db.FindRoleAssignments(ctx, "")
	if err != nil || len(all) != 3 {
		t.Fatalf("assignments = %v, %v", all, err)
	}
	if a := all[1]; a.UserName != "Bob" || a.AssignedByName != "Ada" || a.Source != instancehub.SourcePortal || a.AssignedAt.IsZero() {
		t.Errorf("assignment = %+v", a)
	}
	owners, _ := db.FindRoleAssignments(ctx, instancehub.RoleOwner)
	if len(owners) != 1 || owners[0].UserEmail != "ada@example.com" || owners[0].AssignedByName != "" {
		t.Errorf("owners = %+v", owners)
	}
	// The session carries the roles.
	if err := db.CreateSession(ctx, &instancehub.Session{TokenHash: "h", UserID: bob.ID, ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	s, err := db.FindSession(ctx, "h", time.Now())
	if err != nil || len(s.User.Roles) != 2 {
		t.Errorf("session roles = %v, %v", s.User.Roles, err)
	}

	if _, err := db.RemoveRoleAssignment(ctx, owner.ID); instancehub.ErrorCode(err) != instancehub.ECONFLICT ||
		!strings.Contains(instancehub.ErrorMessage(err), "last Owner") {
		t.Errorf("removing the last Owner: %v", err)
	}
	removed, err := db.RemoveRoleAssignment(ctx, ds.ID)
	if err != nil || removed.Role != instancehub.RoleDataScientist || removed.UserID != bob.ID {
		t.Errorf("remove = %+v, %v", removed, err)
	}
	if _, err := db.RemoveRoleAssignment(ctx, ds.ID); instancehub.ErrorCode(err) != instancehub.ENOTFOUND {
		t.Errorf("remove twice: %v", err)
	}
}

// TestLastOwnerRace has two Owners remove each other at the same moment:
// one removal must fail.
func TestLastOwnerRace(t *testing.T) {
	db, _ := openTestDB(t)
	ctx := context.Background()
	var ids []int64
	for _, email := range []string{"a@example.com", "b@example.com"} {
		u := &instancehub.User{Email: email, Name: email}
		if err := db.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		a := &instancehub.RoleAssignment{UserID: u.ID, Role: instancehub.RoleOwner}
		if err := db.AssignRole(ctx, a); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, a.ID)
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = db.RemoveRoleAssignment(ctx, id)
		}()
	}
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) {
		t.Fatalf("errors = %v; want exactly one removal refused", errs)
	}
	owners, _ := db.FindRoleAssignments(ctx, instancehub.RoleOwner)
	if len(owners) != 1 {
		t.Errorf("%d owners left, want 1", len(owners))
	}
}

// TestLastOwnerRaceInterleaved: the race above, made to happen. Another
// portal's write transaction removes one of two Owners and holds on before
// committing; the removal of the other, begun meanwhile, waits for it (on
// SQLite for the file's write lock, on PostgreSQL for the advisory one),
// then finds itself the last Owner's and is refused. Without the wait it
// counted two Owners, both removals committed, and none was left.
func TestLastOwnerRaceInterleaved(t *testing.T) {
	db, _ := openTestDB(t)
	ctx := context.Background()
	var ids []int64
	for _, email := range []string{"a@example.com", "b@example.com"} {
		u := createUser(t, db, email, email)
		a := &instancehub.RoleAssignment{UserID: u.ID, Role: instancehub.RoleOwner}
		if err := db.AssignRole(ctx, a); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, a.ID)
	}
	removed := make(chan struct{})
	second := make(chan error, 1)
	go func() {
		<-removed
		_, err := db.RemoveRoleAssignment(ctx, ids[1])
		second <- err
	}()
	err := db.inTx(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM role_assignments WHERE id = ?`, ids[0]); err != nil {
			return err
		}
		close(removed)
		select {
		case err := <-second:
			t.Errorf("the second removal did not wait for the first to commit: %v", err)
		case <-time.After(300 * time.Millisecond):
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	wantCode(t, <-second, instancehub.ECONFLICT)
	if owners, _ := db.FindRoleAssignments(ctx, instancehub.RoleOwner); len(owners) != 1 {
		t.Errorf("%d owners left, want 1", len(owners))
	}
}

func TestAuditLogIsAppendOnly(t *testing.T) {
	db, _ := openTestDB(t)
	ctx := context.Background()
	base := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	events := []*instancehub.AuditEvent{
		{At: base, UserName: "Ada", UserEmail: "ada@example.com", Action: "instance.create", Target: "ada-ws", Result: instancehub.AuditSucceeded, SourceIP: "10.0.0.1"},
		{At: base.Add(time.Minute), UserName: "Bob", UserEmail: "bob@example.com", Action: "instance.stop", Target: "ada-ws", Result: instancehub.AuditDenied, Reason: "needs instances/manage"},
		{At: base.Add(2 * time.Minute), UserName: "Ada", UserEmail: "ada@example.com", Action: "role.assign", Target: "bob@example.com: Reader", Result: instancehub.AuditSucceeded},
		{At: base.Add(3 * time.Minute), Action: "session.signIn", Target: "eve@example.com", Result: instancehub.AuditDenied, Reason: "wrong password"},
	}
	for _, e := range events {
		if err := db.RecordAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		filter instancehub.AuditFilter
		want   []int64 // newest first
	}{
		{instancehub.AuditFilter{}, []int64{4, 3, 2, 1}},
		{instancehub.AuditFilter{User: "ADA"}, []int64{3, 1}},
		{instancehub.AuditFilter{Action: "instance."}, []int64{2, 1}},
		{instancehub.AuditFilter{Target: "ada-"}, []int64{2, 1}},
		{instancehub.AuditFilter{Result: instancehub.AuditDenied}, []int64{4, 2}},
		{instancehub.AuditFilter{From: base.Add(time.Minute), To: base.Add(3 * time.Minute)}, []int64{3, 2}},
		{instancehub.AuditFilter{Limit: 2, Offset: 1}, []int64{3, 2}},
	}
	for _, tt := range tests {
		got, total, err := db.FindAuditEvents(ctx, tt.filter)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, e := range got {
			ids = append(ids, e.ID)
		}
		if !equalIDs(ids, tt.want) {
			t.Errorf("%+v: ids %v, want %v", tt.filter, ids, tt.want)
		}
		if tt.filter.Limit == 0 && total != len(tt.want) {
			t.Errorf("%+v: total %d", tt.filter, total)
		}
	}
	got, _, _ := db.FindAuditEvents(ctx, instancehub.AuditFilter{Limit: 1, Offset: 2})
	if e := got[0]; e.UserEmail != "bob@example.com" || e.Reason != "needs instances/manage" || !e.At.Equal(base.Add(time.Minute)) {
		t.Errorf("event = %+v", e)
	}
	if _, err := db.rawExec(ctx, `UPDATE audit_events SET result = 'succeeded' WHERE id = 2`); err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Errorf("update: %v, want refused", err)
	}
	if _, err := db.rawExec(ctx, `DELETE FROM audit_events`); err == nil {
		t.Error("delete was allowed")
	}
}

func equalIDs(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestLoginFailures(t *testing.T) {
	db, _ := openTestDB(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	since := now.Add(-15 * time.Minute)
	reserve := func(email, addr string, admit func(instancehub.LoginCounts) error) (int64, instancehub.LoginCounts, error) {
		return db.ReserveLoginAttempt(ctx, email, addr, now, since, admit)
	}
	rows := func() int {
		var n int
		if err := db.rawQueryRow(ctx, `SELECT count(*) FROM login_failures`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// Failures count per account, per address, and per both together,
	// emails compared case-insensitively.
	for _, f := range []struct{ email, addr string }{
		{"ada@example.com", "10.0.0.1"}, {"ADA@example.com", "10.0.0.1"}, {"ada@example.com", "10.0.0.2"}, {"bob@example.com", "10.0.0.1"},
	} {
		id, _, err := reserve(f.email, f.addr, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.FailLoginAttempt(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	id, counts, err := reserve("ada@example.com", "10.0.0.1", nil)
	if want := (instancehub.LoginCounts{Pair: 2, Account: 3, Address: 3}); err != nil || counts != want {
		t.Errorf("ada from 10.0.0.1: %+v, %v; want %+v", counts, err, want)
	}
	// An attempt under way counts too, so that attempts at once are
	// counted one by one.
	second, counts, _ := reserve("ada@example.com", "10.0.0.1", nil)
	if want := (instancehub.LoginCounts{Pair: 3, Account: 4, Address: 4}); counts != want {
		t.Errorf("with an attempt under way: %+v, want %+v", counts, want)
	}
	if err := db.ForgetLoginAttempt(ctx, second); err != nil {
		t.Fatal(err)
	}
	// An attempt admit refuses is not recorded, and gets admit's error.
	capAt4 := func(c instancehub.LoginCounts) error {
		if c.Address >= 4 {
			return instancehub.Errorf(instancehub.ETHROTTLED, "refused")
		}
		return nil
	}
	before := rows()
	if _, _, err := reserve("carol@example.com", "10.0.0.1", capAt4); instancehub.ErrorCode(err) != instancehub.ETHROTTLED {
		t.Errorf("an attempt admit refuses: %v, want its error", err)
	}
	if rows() != before {
		t.Error("a refused attempt was recorded")
	}
	// An attempt taken back counts no more.
	if err := db.ForgetLoginAttempt(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, _, err := reserve("carol@example.com", "10.0.0.1", capAt4); err != nil {
		t.Errorf("after taking one back: %v", err)
	}
	// Clearing from one address leaves the others; "" clears them all.
	if n, err := db.ClearLoginFailures(ctx, "ada@example.com", "10.0.0.2"); err != nil || n != 1 {
		t.Errorf("clear from 10.0.0.2: %d, %v", n, err)
	}
	if _, _, err := reserve("ada@example.com", "10.0.0.1", nil); err != nil {
		t.Fatal(err)
	}
	if n, err := db.ClearLoginFailures(ctx, "ADA@example.com", ""); err != nil || n != 2 {
		t.Errorf("clear everywhere: %d, %v; want the 2 failures, not the attempt under way", n, err)
	}
	// Attempts older than the window are dropped at the next attempt.
	later := now.Add(time.Hour)
	if _, _, err := db.ReserveLoginAttempt(ctx, "dave@example.com", "10.0.0.9", later, later.Add(-15*time.Minute), nil); err != nil {
		t.Fatal(err)
	}
	if n := rows(); n != 1 {
		t.Errorf("%d attempts kept, want only the newest", n)
	}
}

func TestUserSubjectAndSearch(t *testing.T) {
	db, _ := openTestDB(t)
	ctx := context.Background()
	u := &instancehub.User{Email: "grace@example.com", Name: "Grace Hopper", Subject: "entra:t1:o1"}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateUser(ctx, &instancehub.User{Email: "alan@example.com", Name: "Alan Turing"}); err != nil {
		t.Fatal(err)
	}
	got, err := db.FindUserBySubject(ctx, "entra:t1:o1")
	if err != nil || got.ID != u.ID {
		t.Fatalf("by subject: %+v, %v", got, err)
	}
	if _, err := db.FindUserBySubject(ctx, ""); instancehub.ErrorCode(err) != instancehub.ENOTFOUND {
		t.Errorf("empty subject: %v", err)
	}
	u.Name, u.Email = "Rear Admiral Hopper", "hopper@example.com"
	if err := db.UpdateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.FindUserByEmail(ctx, "hopper@example.com"); got == nil || got.Name != "Rear Admiral Hopper" {
		t.Errorf("after update: %+v", got)
	}
	u.Email = "alan@example.com"
	if err := db.UpdateUser(ctx, u); instancehub.ErrorCode(err) != instancehub.ECONFLICT {
		t.Errorf("taking another's email: %v", err)
	}
	all, _ := db.FindUsers(ctx, "", 0)
	if len(all) != 2 || all[0].Name != "Alan Turing" {
		t.Errorf("all users = %v", all)
	}
	some, _ := db.FindUsers(ctx, "HOPPER", 10)
	if len(some) != 1 || some[0].ID != u.ID {
		t.Errorf("search = %v", some)
	}
}
