package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
)

// TestAuditTally sends a flood of refusals: one row per minute, action,
// result, user and source keeps their count.
func TestAuditTally(t *testing.T) {
	db, _ := openTestDB(t)
	ctx := context.Background()
	base := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	refusal := func(at time.Time, addr, target string) *instancehub.AuditEvent {
		return &instancehub.AuditEvent{At: at, Action: "request.csrf", Target: target, Result: instancehub.AuditDenied,
			Reason: "not from this portal", SourceIP: addr}
	}
	for i := range 500 {
		e := refusal(base.Add(time.Duration(i)*100*time.Millisecond), "192.0.2.1", fmt.Sprintf("POST /x/%d", i))
		if err := db.TallyAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
		if e.Count != i+1 {
			t.Fatalf("event %d counted as %d, want %d", i, e.Count, i+1)
		}
	}
	// The minute after, and another address, start their own rows.
	for _, e := range []*instancehub.AuditEvent{refusal(base.Add(time.Minute), "192.0.2.1", "POST /y"), refusal(base, "192.0.2.2", "POST /z")} {
		if err := db.TallyAudit(ctx, e); err != nil || e.Count != 1 {
			t.Fatalf("new tally: count %d, %v", e.Count, err)
		}
	}
	// Events kept one by one are never counted in.
	for range 2 {
		if err := db.RecordAudit(ctx, refusal(base, "192.0.2.1", "POST /x/0")); err != nil {
			t.Fatal(err)
		}
	}
	events, total, err := db.FindAuditEvents(ctx, instancehub.AuditFilter{})
	if err != nil || total != 5 {
		t.Fatalf("%d events, %v; want 5", total, err)
	}
	var flood *instancehub.AuditEvent
	for _, e := range events {
		if e.Target == "POST /x/0" && e.Count > 1 {
			flood = e
		}
	}
	if flood == nil || flood.Count != 500 || !flood.At.Equal(base) {
		t.Errorf("the flood's event = %+v, want the first's target and time, counting 500", flood)
	}
	var rows int
	if err := db.rawQueryRow(ctx, `SELECT count(*) FROM audit_events`).Scan(&rows); err != nil || rows != 5 {
		t.Errorf("%d rows stored, want 5 (%v)", rows, err)
	}
	// Only the count of a tallied event grows; nothing else changes.
	for _, stmt := range []string{
		`UPDATE audit_events SET count = count + 1 WHERE tally_minute IS NULL`,
		`UPDATE audit_events SET count = 1 WHERE tally_minute IS NOT NULL`,
		`UPDATE audit_events SET count = count + 1, target = 'x' WHERE tally_minute IS NOT NULL`,
	} {
		if _, err := db.rawExec(ctx, stmt); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v, want refused", stmt, err)
		}
	}
}

// TestWalkAuditEvents walks the matching events newest first and stops at
// the callback's error.
func TestWalkAuditEvents(t *testing.T) {
	db, _ := openTestDB(t)
	ctx := context.Background()
	base := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	for i := range 10 {
		e := &instancehub.AuditEvent{At: base.Add(time.Duration(i) * time.Second), Action: "instance.start", Target: fmt.Sprint(i), Result: instancehub.AuditSucceeded}
		if i%2 == 1 {
			e.Action = "instance.stop"
		}
		if err := db.RecordAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	var targets []string
	err := db.WalkAuditEvents(ctx, instancehub.AuditFilter{Action: "instance.start", Limit: 1}, func(e *instancehub.AuditEvent) error {
		targets = append(targets, e.Target)
		return nil
	})
	if err != nil || strings.Join(targets, ",") != "8,6,4,2,0" {
		t.Errorf("walked %v, %v; want every start, newest first", targets, err)
	}
	stop := errors.New("enough")
	n := 0
	err = db.WalkAuditEvents(ctx, instancehub.AuditFilter{}, func(*instancehub.AuditEvent) error {
		if n++; n == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 3 {
		t.Errorf("walk returned %v after %d events, want the callback's error after 3", err, n)
	}
}
