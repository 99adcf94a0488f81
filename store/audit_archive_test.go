package store

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
)

// archiveFixture records events at the hours given after start (some of
// them a tallied refusal), and returns the cut-off between the old and the
// recent: start plus 24 hours.
func archiveFixture(t *testing.T, db *DB, hours ...int) time.Time {
	t.Helper()
	ctx := context.Background()
	for i, h := range hours {
		e := &instancehub.AuditEvent{At: start.Add(time.Duration(h) * time.Hour), UserName: "Ada", UserEmail: "ada@example.com",
			Action: "instance.start", Target: "box-" + string(rune('a'+i)), Result: instancehub.AuditSucceeded, SourceIP: "192.0.2.1"}
		if err := db.RecordAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		if err := db.TallyAudit(ctx, &instancehub.AuditEvent{At: start.Add(2 * time.Hour), Action: "request.csrf",
			Target: "POST /x", Result: instancehub.AuditDenied, Reason: "not from this portal", SourceIP: "192.0.2.9"}); err != nil {
			t.Fatal(err)
		}
	}
	return start.Add(24 * time.Hour)
}

// planArchive writes the events an archive before cut would hold, as the
// service writes its file, and returns the archive to record.
func planArchive(t *testing.T, db *DB, cut time.Time) *instancehub.AuditArchive {
	t.Helper()
	ctx := context.Background()
	span, err := db.AuditArchivable(ctx, cut)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	w := instancehub.NewAuditArchiveWriter(&b)
	if err := db.WalkAuditArchivable(ctx, cut, span.LastID, w.Write); err != nil {
		t.Fatal(err)
	}
	count, digest, err := instancehub.ReadAuditArchive(strings.NewReader(b.String()))
	if err != nil || count != span.Count || count != w.Count() || digest != w.Digest() {
		t.Fatalf("the archive read back: %d events, %s, %v; written %d, %s; the span says %d", count, digest, err, w.Count(), w.Digest(), span.Count)
	}
	return &instancehub.AuditArchive{At: cut.Add(40 * 24 * time.Hour), Before: cut, First: span.First, Last: span.Last,
		LastID: span.LastID, Count: span.Count, File: "/var/archives/audit-before.jsonl", Digest: w.Digest()}
}

func archiveEvent(a *instancehub.AuditArchive) *instancehub.AuditEvent {
	return &instancehub.AuditEvent{At: a.At, Action: "audit.archive", Target: a.File, Result: instancehub.AuditSucceeded, Reason: "checked"}
}

// TestArchiveAudit: an archive removes the events before its cut-off that
// its file holds, records itself and its audit event in the same
// transaction, and nothing else can delete an event or touch an archive.
func TestArchiveAudit(t *testing.T) {
	db, _ := openTestDB(t)
	ctx := context.Background()
	cut := archiveFixture(t, db, 1, 3, 5, 30, 40) // three before the cut, with the tally four events; two after
	refused := func(stmt string) {
		t.Helper()
		if _, err := db.rawExec(ctx, stmt); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v, want refused as append-only", stmt, err)
		}
	}
	refused(`DELETE FROM audit_events WHERE at < ` + itoa(millis(cut)))

	span, err := db.AuditArchivable(ctx, cut)
	if err != nil || span.Count != 4 || !span.First.Equal(start.Add(time.Hour)) || !span.Last.Equal(start.Add(5*time.Hour)) {
		t.Fatalf("span before the cut = %+v, %v; want 4 events from start+1h to start+5h", span, err)
	}
	var order []string
	if err := db.WalkAuditArchivable(ctx, cut, span.LastID, func(e *instancehub.AuditEvent) error {
		order = append(order, e.Target)
		return nil
	}); err != nil || strings.Join(order, ",") != "box-a,POST /x,box-b,box-c" {
		t.Errorf("walked %v, %v; want the four old events oldest first", order, err)
	}

	for n, want := range map[int]time.Time{0: start.Add(time.Hour), 1: start.Add(2 * time.Hour), 5: start.Add(40 * time.Hour), 6: {}} {
		if got, err := db.NthOldestAudit(ctx, n); err != nil || !got.Equal(want) {
			t.Errorf("NthOldestAudit(%d) = %v, %v; want %v", n, got, err, want)
		}
	}

	a := planArchive(t, db, cut)
	e := archiveEvent(a)
	if err := db.ArchiveAudit(ctx, a, e); err != nil {
		t.Fatal(err)
	}
	if a.ID == 0 || e.ID == 0 {
		t.Errorf("archive %d, its event %d: want both recorded", a.ID, e.ID)
	}
	events, total, err := db.FindAuditEvents(ctx, instancehub.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, e := range events {
		left = append(left, e.Target)
	}
	if total != 3 || strings.Join(left, ",") != "/var/archives/audit-before.jsonl,box-e,box-d" {
		t.Errorf("the log holds %v, want the archive's event and the two recent ones", left)
	}
	archives, err := db.AuditArchives(ctx)
	if err != nil || len(archives) != 1 {
		t.Fatalf("archives = %v, %v; want one", archives, err)
	}
	got, err := db.FindAuditArchive(ctx, a.ID)
	if err != nil || *got != *archives[0] || got.Count != 4 || got.Digest != a.Digest || !got.Before.Equal(cut) ||
		got.LastID != a.LastID || !got.First.Equal(a.First) || !got.Last.Equal(a.Last) || got.File != a.File || !got.At.Equal(a.At) {
		t.Errorf("archive read back = %+v, %v; want %+v", got, err, a)
	}
	_, err = db.FindAuditArchive(ctx, a.ID+1)
	wantCode(t, err, instancehub.ENOTFOUND)

	// The archive covers its own events and no other: the recent ones, and
	// one recorded later with an old time (a later ID), stay append-only;
	// and an archive is never changed or removed.
	if err := db.RecordAudit(ctx, &instancehub.AuditEvent{At: start, Action: "instance.stop", Result: instancehub.AuditSucceeded}); err != nil {
		t.Fatal(err)
	}
	refused(`DELETE FROM audit_events`)
	refused(`DELETE FROM audit_events WHERE at < ` + itoa(millis(cut)))
	refused(`UPDATE audit_archives SET cutoff = cutoff + 86400000`)
	refused(`UPDATE audit_archives SET last_id = last_id + 100`)
	refused(`DELETE FROM audit_archives`)
	if onPostgres() {
		refused(`TRUNCATE audit_archives`)
		refused(`TRUNCATE audit_events`)
	}
	if _, total, _ := db.FindAuditEvents(ctx, instancehub.AuditFilter{}); total != 4 {
		t.Errorf("the log holds %d events after the refused deletes, want 4", total)
	}
}

// TestArchiveAuditRemovesOnlyWhatTheFileHolds: an archive whose count or
// digest is not that of the events before its cut-off, read again in the
// transaction, removes nothing and records nothing.
func TestArchiveAuditRemovesOnlyWhatTheFileHolds(t *testing.T) {
	db, _ := openTestDB(t)
	ctx := context.Background()
	cut := archiveFixture(t, db, 1, 3, 30)
	for _, spoil := range []func(a *instancehub.AuditArchive){
		func(a *instancehub.AuditArchive) { a.Digest = strings.Repeat("0", 64) },
		func(a *instancehub.AuditArchive) { a.Count-- },
		func(a *instancehub.AuditArchive) { a.LastID-- }, // the file holds one more than it covers
	} {
		a := planArchive(t, db, cut)
		spoil(a)
		err := db.ArchiveAudit(ctx, a, archiveEvent(a))
		wantCode(t, err, instancehub.ECONFLICT)
		if _, total, _ := db.FindAuditEvents(ctx, instancehub.AuditFilter{}); total != 4 {
			t.Errorf("a refused archive left %d events, want all 4", total)
		}
		if archives, _ := db.AuditArchives(ctx); len(archives) != 0 {
			t.Errorf("a refused archive was recorded: %+v", archives[0])
		}
	}
	// The same events written again, unspoiled, are archived.
	a := planArchive(t, db, cut)
	if err := db.ArchiveAudit(ctx, a, archiveEvent(a)); err != nil {
		t.Fatal(err)
	}
	if span, err := db.AuditArchivable(ctx, cut); err != nil || span.Count != 0 {
		t.Errorf("after the archive, %d events before the cut (%v), want none", span.Count, err)
	}
	// A file's events archived twice: the second finds them gone.
	err := db.ArchiveAudit(ctx, a, archiveEvent(a))
	wantCode(t, err, instancehub.ECONFLICT)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
