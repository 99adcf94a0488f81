package service_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/internal/testportal"
)

// TestArchiveAuditCutoffFollowsTheClock: the latest cut-off is the day
// AuditKeptDays before the service's clock's, whatever the wall's says;
// only Owners archive; an archive larger than the limit is refused,
// naming the latest day that fits; and a refusal is audited and leaves no
// file. The clock is set years back, so that what the portal recorded on
// opening, by the wall's clock, is after every cut-off.
func TestArchiveAuditCutoffFollowsTheClock(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0)
	now := time.Date(2001, 7, 15, 12, 0, 0, 0, time.UTC)
	p.Service.Now = func() time.Time { return now }
	day := func(s string) time.Time {
		d, _ := time.Parse(time.DateOnly, s)
		return d
	}
	for _, at := range []time.Time{day("2001-05-01").Add(8 * time.Hour), day("2001-05-01").Add(9 * time.Hour),
		day("2001-06-14").Add(23*time.Hour + 59*time.Minute), day("2001-06-15")} {
		if err := p.DB.RecordAudit(p.Ctx, &instancehub.AuditEvent{At: at, Action: "instance.start", Result: instancehub.AuditSucceeded}); err != nil {
			t.Fatal(err)
		}
	}
	if got := p.Service.LatestAuditCutoff(); !got.Equal(day("2001-06-15")) {
		t.Errorf("LatestAuditCutoff = %v, want 2001-06-15", got)
	}
	refused := func(before, want string) {
		t.Helper()
		_, err := p.Service.ArchiveAudit(p.Ctx, before)
		if got := instancehub.ErrorFields(err)["before"]; !strings.Contains(got, want) {
			t.Errorf("archiving before %s: %v, want %q", before, err, want)
		}
	}
	refused("2001-06-16", "The last 30 days stay in the log: choose a date on or before 2001-06-15.")
	p.Service.ArchiveLimit = 1
	refused("2001-06-15", "more than the 1 one archive moves, and more than that many fall on 2001-05-01 alone")
	p.Service.ArchiveLimit = 2
	refused("2001-06-15", "The log holds 3 events before 2001-06-15; one archive moves at most 2")
	refused("2001-06-15", "Choose a day on or before 2001-06-14, then archive the rest.")
	reader := p.EnsureUser(t, "rita@example.com", "Rita Reader", instancehub.RoleReader, instancehub.RoleAuditReader)
	_, err := p.Service.ArchiveAudit(instancehub.NewContextWithUser(context.Background(), reader), "2001-06-14")
	if instancehub.ErrorCode(err) != instancehub.EFORBIDDEN {
		t.Errorf("an Audit Reader archiving: %v, want EFORBIDDEN", err)
	}
	folder := filepath.Join(p.Dir, "audit-archives")
	if entries, _ := os.ReadDir(folder); len(entries) != 0 {
		t.Errorf("refused archives left files: %v", entries)
	}

	plan, err := p.Service.PlanAuditArchive(p.Ctx, "2001-06-14")
	if err != nil || plan.Count != 2 {
		t.Fatalf("plan = %+v, %v; want the two events before the 14th", plan, err)
	}
	a, err := p.Service.ArchiveAudit(p.Ctx, "2001-06-14")
	if err != nil {
		t.Fatal(err)
	}
	if a.Count != 2 || !a.At.Equal(now) || a.UserEmail != "ada@example.com" || a.File != filepath.Join(folder, "audit-before-2001-06-14.jsonl") ||
		!a.First.Equal(day("2001-05-01").Add(8*time.Hour)) || !a.Last.Equal(day("2001-05-01").Add(9*time.Hour)) {
		t.Errorf("archive = %+v", *a)
	}
	p.Service.ArchiveLimit = 0
	if a, err := p.Service.ArchiveAudit(p.Ctx, "2001-06-15"); err != nil || a.Count != 1 {
		t.Errorf("the rest: %v, %v; want the one event of the 14th", a, err)
	}
	denied, _, err := p.DB.FindAuditEvents(p.Ctx, instancehub.AuditFilter{Action: "audit.archive", Result: instancehub.AuditDenied})
	if err != nil || len(denied) != 1 || denied[0].UserEmail != "rita@example.com" {
		t.Errorf("the Audit Reader's refusal was not audited: %v, %v", denied, err)
	}
}
