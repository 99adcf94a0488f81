package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
)

// TestCopyTablesAreEveryTable: migrate-data copies every table a migration
// made, so that a table added later is not left behind unnoticed.
func TestCopyTablesAreEveryTable(t *testing.T) {
	db := openStore(t)
	tables, err := db.tables(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := slices.Sorted(slices.Values(copyTables))
	if !slices.Equal(tables, want) {
		t.Errorf("tables = %v\ncopied = %v", tables, want)
	}
}

// seedEveryTable writes at least one row into each table CopyTo copies,
// through the store as the portal writes them.
func seedEveryTable(t *testing.T, db *DB) {
	t.Helper()
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	ada := createUser(t, db, "Ada@Example.com", "Ada Lovelace")
	ada.PasswordHash, ada.Subject = "$argon2id$v=19$m=65536,t=1,p=2$c2FsdA$aGFzaA", "entra-ada"
	must(db.UpdateUser(ctx, ada))
	bob := createUser(t, db, "bob@example.com", "Bob")
	if _, err := db.SetUserDisabled(ctx, bob.ID, start.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	must(db.AssignRole(ctx, &instancehub.RoleAssignment{UserID: ada.ID, Role: instancehub.RoleOwner, Source: instancehub.SourceCLI}))
	must(db.AssignRole(ctx, &instancehub.RoleAssignment{UserID: bob.ID, Role: instancehub.RoleReader, AssignedByID: ada.ID}))
	createSession(t, db, "session-hash", ada, start.Add(24*time.Hour))

	running := runningInstance(t, db, "ada-gpu", ada) // an open running interval
	stopped := runningInstance(t, db, "ada-cpu", ada)
	if err := db.RecordSetupRun(ctx, running.ID, &instancehub.SetupResult{Phase: instancehub.SetupStartup, Log: "ok\n", At: start}); err != nil {
		t.Fatal(err)
	}
	finish(t, db, begin(t, db, stopped, instancehub.OpStop, ada), instancehub.StateStopped) // a closed one
	_, op := createInstance(t, db, "ada-new", ada)                                          // in progress, leased
	if _, err := db.ClaimLapsedOperations(ctx, "old-portal", time.Hour, true); err != nil {
		t.Fatal(err)
	}
	op.ResumeToken, op.LeaseOwner = "resume-token", "old-portal"
	op.Step = "virtual machine"
	must(db.SaveOperationProgress(ctx, op))
	deleteInstance(t, db, runningInstance(t, db, "gone", ada), ada)
	must(db.SetIdleShutdown(ctx, running.ID, 90*time.Minute, start))

	sch, err := instancehub.ParseSchedule(instancehub.ScheduleRequest{Action: "Stop", Kind: "Recurrence",
		Times: "18:00", WeekDays: []string{"Monday", "Friday"}, TimeZone: "Europe/Paris"})
	must(err)
	sch.InstanceID, sch.CreatedAt = running.ID, start
	must(db.AddSchedule(ctx, sch))
	firing := &instancehub.Firing{ScheduleID: sch.ID, Occurrence: start.Add(9 * time.Hour), FiredAt: start.Add(9 * time.Hour)}
	must(db.ClaimFiring(ctx, firing))

	must(db.RecordAudit(ctx, &instancehub.AuditEvent{At: start, UserID: ada.ID, UserName: "Ada Lovelace", UserEmail: "ada@example.com",
		Action: "instance.create", Target: "ada-gpu", Result: instancehub.AuditSucceeded, SourceIP: "192.0.2.7"}))
	for i := range 3 {
		must(db.TallyAudit(ctx, &instancehub.AuditEvent{At: start.Add(time.Duration(i) * time.Second), Action: "request.csrf",
			Target: "POST /x", Result: instancehub.AuditDenied, Reason: "not from this portal", SourceIP: "192.0.2.9"}))
	}
	// An event of a year before, archived.
	must(db.RecordAudit(ctx, &instancehub.AuditEvent{At: start.AddDate(-1, 0, 0), UserName: "Ada Lovelace", Action: "session.signIn",
		Result: instancehub.AuditSucceeded}))
	archive := planArchive(t, db, start.AddDate(-1, 0, 1))
	archive.UserID, archive.UserName, archive.UserEmail = ada.ID, "Ada Lovelace", "ada@example.com"
	must(db.ArchiveAudit(ctx, archive, archiveEvent(archive)))
	if _, _, err := db.ReserveLoginAttempt(ctx, "bob@example.com", "192.0.2.8", start, start.Add(-15*time.Minute), nil); err != nil {
		t.Fatal(err)
	}
	must(db.SetWorkspaceLimit(ctx, "westeurope", "standardDSv2Family", 48))
	must(db.SaveWorkspaceSettings(ctx, instancehub.WorkspaceSettings{IdleShutdownOn: true, IdleShutdown: 2 * time.Hour}))
	must(db.AddUserNotice(ctx, ada.ID, "ada-new was stopped by its schedule", start))
	must(db.CreatePasswordLink(ctx, &instancehub.PasswordLink{TokenHash: "link-hash", UserID: bob.ID, CreatedAt: start, ExpiresAt: start.Add(72 * time.Hour)}))
	must(db.CreateToken(ctx, &instancehub.APIToken{UserID: ada.ID, Name: "laptop", Hash: "token-hash", Prefix: "ih_abcd",
		ReadOnly: true, CreatedAt: start, ExpiresAt: start.Add(30 * 24 * time.Hour)}, start))
	if _, err := db.PortalKey(ctx, "sessions"); err != nil {
		t.Fatal(err)
	}
	must(db.AddQuotaRequest(ctx, &instancehub.QuotaRequest{UserID: bob.ID, Region: "westeurope", Family: "standardNCFamily",
		VCPUs: 6, Reason: "GPU training", At: start}))
	declined := &instancehub.QuotaRequest{UserID: bob.ID, Region: "westeurope", Family: "standardDSv2Family", VCPUs: 8, Reason: "more", At: start}
	must(db.AddQuotaRequest(ctx, declined))
	declined.DecidedByID, declined.DecidedAt, declined.Answer = ada.ID, start, "Not this month."
	must(db.DeclineQuotaRequest(ctx, declined))
}

// dump is every row of table, each value written alike whichever database
// and driver read it, in a fixed order of columns and rows; but for the
// operations' leases, which the copy leaves free on purpose.
func dump(t *testing.T, db *DB, table string) []string {
	t.Helper()
	rows, err := db.db.Query(`SELECT * FROM ` + table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	columns, _ := rows.Columns()
	var out []string
	for rows.Next() {
		values := make([]any, len(columns))
		ptrs := make([]any, len(columns))
		for i := range values {
			ptrs[i] = &values[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var fields []string
		for i, c := range columns {
			if c == "lease_owner" || c == "lease_until" {
				continue
			}
			v := values[i]
			switch x := v.(type) {
			case bool:
				v = map[bool]int64{false: 0, true: 1}[x]
			case []byte:
				v = fmt.Sprintf("%x", x)
			case string:
				if table == "portal_keys" && c == "key" {
					v = fmt.Sprintf("%x", x)
				}
			}
			fields = append(fields, fmt.Sprintf("%s=%v", c, v))
		}
		slices.Sort(fields)
		out = append(out, strings.Join(fields, " "))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// TestCopyTo: a SQLite database, as migrate-data finds it, copied into an
// empty one of the store under test holds the same rows; the target then
// works as the portal uses it, and a second copy into it is refused.
func TestCopyTo(t *testing.T) {
	ctx := context.Background()
	from := openSQLite(t)
	from.Now = func() time.Time { return start }
	seedEveryTable(t, from)
	to := openStore(t)

	counts, err := from.CopyTo(ctx, to)
	if err != nil {
		t.Fatal(err)
	}
	if len(counts) != len(copyTables) {
		t.Fatalf("counts = %v", counts)
	}
	for _, c := range counts {
		if c.Rows == 0 {
			t.Errorf("%s: no rows copied; seedEveryTable writes none", c.Table)
		}
		want, got := dump(t, from, c.Table), dump(t, to, c.Table)
		if int64(len(want)) != c.Rows || !slices.Equal(got, want) {
			t.Errorf("%s (%d rows reported):\nsource %q\ntarget %q", c.Table, c.Rows, want, got)
		}
	}

	// The operation in progress is free for the first portal to take.
	claimed, err := to.ClaimLapsedOperations(ctx, "new-portal", time.Minute, false)
	if err != nil || len(claimed) != 1 {
		t.Errorf("claimed %v, %v; want the create in progress", claimed, err)
	}
	// What the portal reads works, and new rows get new IDs.
	if s, err := to.FindSession(ctx, "session-hash", start); err != nil || !strings.EqualFold(s.User.Email, "ada@example.com") {
		t.Errorf("session = %+v, %v", s, err)
	}
	if tok, err := to.FindToken(ctx, "token-hash", start); err != nil || !tok.ReadOnly || tok.Name != "laptop" {
		t.Errorf("token = %+v, %v", tok, err)
	}
	inst, err := to.FindInstanceByName(ctx, "ADA-GPU")
	if err != nil || inst.IdleShutdown != 90*time.Minute || !inst.SSHEnabled {
		t.Errorf("instance = %+v, %v", inst, err)
	}
	carol := createUser(t, to, "carol@example.com", "Carol")
	if ada, _ := to.FindUserByEmail(ctx, "ada@example.com"); carol.ID <= ada.ID {
		t.Errorf("a new user's ID %d, not past those copied", carol.ID)
	}
	runningInstance(t, to, "carol-box", carol)

	before := dump(t, to, "users")
	_, err = from.CopyTo(ctx, to)
	wantCode(t, err, instancehub.ECONFLICT)
	if err == nil || !strings.Contains(err.Error(), "not empty") || !strings.Contains(err.Error(), "users") {
		t.Errorf("second copy: %v", err)
	}
	if after := dump(t, to, "users"); !slices.Equal(before, after) {
		t.Errorf("a refused copy changed the target")
	}
}
