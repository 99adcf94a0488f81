package instancehub_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/internal/testportal"
)

// TestArchiveAuditCutoffFollowsTheClock: the latest cut-off is the day
// AuditKeptDays before the service's clock's, whatever the wall's says;
// only Owners archive, and a refusal is audited and leaves no file. The
// clock is set years back, so that what the portal recorded on opening,
// by the wall's clock, is after every cut-off.
func TestArchiveAuditCutoffFollowsTheClock(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0)
	now := time.Date(2001, 7, 15, 12, 0, 0, 0, time.UTC)
	p.Service.Now = func() time.Time { return now }
	for _, at := range []time.Time{time.Date(2001, 5, 1, 8, 0, 0, 0, time.UTC), time.Date(2001, 6, 14, 23, 59, 0, 0, time.UTC),
		time.Date(2001, 6, 15, 0, 0, 0, 0, time.UTC)} {
		if err := p.DB.RecordAudit(p.Ctx, &instancehub.AuditEvent{At: at, Action: "instance.start", Result: instancehub.AuditSucceeded}); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := p.Service.LatestAuditCutoff(), time.Date(2001, 6, 15, 0, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("LatestAuditCutoff = %v, want %v", got, want)
	}
	_, err := p.Service.ArchiveAudit(p.Ctx, "2001-06-16")
	if instancehub.ErrorFields(err)["before"] != "The last 30 days stay in the log: choose a date on or before 2001-06-15." {
		t.Errorf("a day too late: %v", err)
	}
	reader := p.EnsureUser(t, "rita@example.com", "Rita Reader", instancehub.RoleReader, instancehub.RoleAuditReader)
	_, err = p.Service.ArchiveAudit(instancehub.NewContextWithUser(context.Background(), reader), "2001-06-15")
	if instancehub.ErrorCode(err) != instancehub.EFORBIDDEN {
		t.Errorf("an Audit Reader archiving: %v, want EFORBIDDEN", err)
	}
	folder := filepath.Join(p.Dir, "audit-archives")
	if entries, _ := os.ReadDir(folder); len(entries) != 0 {
		t.Errorf("refused archives left files: %v", entries)
	}

	plan, err := p.Service.PlanAuditArchive(p.Ctx, "2001-06-15")
	if err != nil || plan.Count != 2 {
		t.Fatalf("plan = %+v, %v; want the two events before the 15th", plan, err)
	}
	a, err := p.Service.ArchiveAudit(p.Ctx, "2001-06-15")
	if err != nil {
		t.Fatal(err)
	}
	if a.Count != 2 || !a.At.Equal(now) || a.UserEmail != "ada@example.com" || a.File != filepath.Join(folder, "audit-before-2001-06-15.jsonl") ||
		!a.First.Equal(time.Date(2001, 5, 1, 8, 0, 0, 0, time.UTC)) || !a.Last.Equal(time.Date(2001, 6, 14, 23, 59, 0, 0, time.UTC)) {
		t.Errorf("archive = %+v", *a)
	}
	denied, _, err := p.DB.FindAuditEvents(p.Ctx, instancehub.AuditFilter{Action: "audit.archive", Result: instancehub.AuditDenied})
	if err != nil || len(denied) != 1 || denied[0].UserEmail != "rita@example.com" {
		t.Errorf("the Audit Reader's refusal was not audited: %v, %v", denied, err)
	}
}
