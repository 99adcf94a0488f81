package store

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
)

// TestRefusedRequestsCoverEveryRefusal: the audit log's "Refused requests"
// selects the requests refused before any action and every action denied.
func TestRefusedRequestsCoverEveryRefusal(t *testing.T) {
	db, _ := openTestDB(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	for i, e := range []instancehub.AuditEvent{
		{Action: "request.csrf", Result: instancehub.AuditDenied},
		{Action: "instance.stop", Target: "ada-box", Result: instancehub.AuditDenied},
		{Action: "role.assign", Target: "bob", Result: instancehub.AuditDenied},
		{Action: "instance.create", Target: "ada-box", Result: instancehub.AuditSucceeded},
		{Action: "instance.start", Target: "ada-box", Result: instancehub.AuditFailed},
	} {
		e.At, e.UserEmail = at.Add(time.Duration(i)*time.Second), "ada@example.com"
		if err := db.RecordAudit(ctx, &e); err != nil {
			t.Fatal(err)
		}
	}
	events, total, err := db.FindAuditEvents(ctx, instancehub.AuditFilter{Action: instancehub.AuditRefusals})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range events {
		actions = append(actions, e.Action)
	}
	slices.Sort(actions)
	if total != 3 || !slices.Equal(actions, []string{"instance.stop", "request.csrf", "role.assign"}) {
		t.Fatalf("refusals: %d %v, want the three denials", total, actions)
	}
}
