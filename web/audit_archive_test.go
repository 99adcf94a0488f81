package web_test

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
)

// TestArchiveAuditFromSettings: an Owner moves the old events of the audit
// log into a file from Settings: a date refused is said under its field, a
// page asks first, the events leave the log only once the file is written
// and checked, the file is offered to download, checked again, and never
// overwritten. The dates are days before the service's clock.
func TestArchiveAuditFromSettings(t *testing.T) {
	s := newSite(t, 0)
	now := fixedClock(s)
	day := func(daysAgo int) string { return now.AddDate(0, 0, -daysAgo).Format(time.DateOnly) }
	for _, daysAgo := range []int{90, 60, 40, 5} {
		if err := s.DB.RecordAudit(s.Ctx, &instancehub.AuditEvent{At: now.AddDate(0, 0, -daysAgo), UserName: "Grace", UserEmail: "grace@example.com",
			Action: "instance.stop", Target: "box-" + day(daysAgo), Result: instancehub.AuditSucceeded}); err != nil {
			t.Fatal(err)
		}
	}
	older := func(daysAgo int) int {
		span, err := s.DB.AuditArchivable(s.Ctx, now.AddDate(0, 0, -daysAgo))
		if err != nil {
			t.Fatal(err)
		}
		return span.Count
	}
	s.signIn(t, "ada@example.com")

	page := s.get(t, "/settings")
	wantStatus(t, page, http.StatusOK)
	field := page.doc.Find(`[data-testid="archive-form"] input#archive_before[type="date"][name="before"]`)
	if field.Length() != 1 || page.doc.Find(`label[for="archive_before"]`).Text() != "Archive the events before" {
		t.Fatal("Settings has no labelled date field to archive the audit log")
	}
	if max, _ := field.Attr("max"); max != day(30) {
		t.Errorf("the date field's max = %q, want %s", max, day(30))
	}

	// Refused under the field, nothing archived: a day within the last 30,
	// a bad date.
	for before, want := range map[string]string{day(10): "The last 30 days stay in the log", "2025-02-30": "Give the date as YYYY-MM-DD"} {
		r := s.get(t, "/settings/audit-archive?before="+url.QueryEscape(before))
		wantStatus(t, r, http.StatusUnprocessableEntity)
		if msg := text(r.doc.Find(`[data-testid="archive_before-error"]`)); !strings.Contains(msg, want) {
			t.Errorf("before=%s: the field says %q, want %q", before, msg, want)
		}
		wantStatus(t, s.post(t, "/settings/audit-archive", url.Values{"before": {before}}), http.StatusUnprocessableEntity)
	}

	// The page asks first, and asking removes nothing.
	confirm := s.get(t, "/settings/audit-archive?before="+day(45))
	wantStatus(t, confirm, http.StatusOK)
	if title := text(confirm.doc.Find("h1")); title != "Archive 2 events of the audit log?" {
		t.Errorf("the confirmation asks %q", title)
	}
	if confirm.doc.Find(`form[action="/settings/audit-archive"] button:contains("Archive and remove")`).Length() != 1 ||
		confirm.doc.Find(`form input[name="before"][value="`+day(45)+`"]`).Length() != 1 {
		t.Fatal("the confirmation has no button to archive the events before that day")
	}
	if n := older(45); n != 2 {
		t.Fatalf("asking removed events: %d left before %s", n, day(45))
	}

	r := s.post(t, "/settings/audit-archive", url.Values{"before": {day(45)}})
	wantStatus(t, r, http.StatusSeeOther)
	settings := s.get(t, "/settings")
	if notice := text(settings.doc.Find(".toast")); !strings.Contains(notice, "Archived 2 events before "+day(45)) {
		t.Errorf("notice = %q", notice)
	}
	if n := older(45); n != 0 {
		t.Errorf("%d events before %s are still in the log", n, day(45))
	}
	if n := older(30); n != 1 {
		t.Errorf("%d events between 45 and 30 days ago, want the one that was not archived", n)
	}
	path := filepath.Join(s.Dir, "audit-archives", "audit-before-"+day(45)+".jsonl")
	row := settings.doc.Find(`[data-testid="audit-archives"] tbody tr`)
	link := row.Find(`a[download]`)
	href, _ := link.Attr("href")
	if row.Length() != 1 || !strings.Contains(text(row), "Ada Lovelace") || text(row.Find(`[data-testid="archive-file"]`)) != path ||
		text(link) != "Download the archive of the events before "+day(45) {
		t.Fatalf("the archives listed: %q, link %q to %s", text(row), text(link), href)
	}
	archives, err := s.DB.AuditArchives(s.Ctx)
	if err != nil || len(archives) != 1 {
		t.Fatalf("archives = %v, %v", archives, err)
	}
	download := s.get(t, href)
	wantStatus(t, download, http.StatusOK)
	if cd := download.Header.Get("Content-Disposition"); !strings.Contains(cd, "attachment") || !strings.Contains(cd, day(45)) {
		t.Errorf("Content-Disposition = %q", cd)
	}
	count, digest, err := instancehub.ReadAuditArchive(strings.NewReader(download.body))
	if err != nil || count != 2 || digest != archives[0].Digest || !strings.Contains(download.body, `"target":"box-`+day(90)+`"`) {
		t.Errorf("the download holds %d events, SHA-256 %s (%v); the archive says %d, %s", count, digest, err, archives[0].Count, archives[0].Digest)
	}
	events, _, err := s.DB.FindAuditEvents(s.Ctx, instancehub.AuditFilter{Action: "audit.archive", Result: instancehub.AuditSucceeded})
	if err != nil || len(events) != 1 {
		t.Fatalf("%d archives audited (%v), want one", len(events), err)
	}
	if e := events[0]; e.UserEmail != "ada@example.com" || e.Target != path || !strings.Contains(e.Reason, digest) {
		t.Errorf("the archive's audit event = %+v; want Ada's, naming the file and its digest", *e)
	}

	// Nothing is left before that day; a file in the way is never
	// overwritten.
	wantStatus(t, s.post(t, "/settings/audit-archive", url.Values{"before": {day(45)}}), http.StatusUnprocessableEntity)
	inTheWay := filepath.Join(s.Dir, "audit-archives", "audit-before-"+day(35)+".jsonl")
	if err := os.WriteFile(inTheWay, []byte("kept\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = s.post(t, "/settings/audit-archive", url.Values{"before": {day(35)}})
	wantStatus(t, r, http.StatusConflict)
	if msg := text(r.doc.Find(`[data-testid="archive_before-error"]`)); !strings.Contains(msg, "exists already") {
		t.Errorf("the field says %q", msg)
	}
	if b, _ := os.ReadFile(inTheWay); string(b) != "kept\n" || older(35) != 1 {
		t.Errorf("the file in the way holds %q, %d events left; want it untouched and the event kept", b, older(35))
	}

	// A file changed since it was written is not handed out.
	if err := os.WriteFile(path, []byte(strings.Replace(download.body, "Grace", "Eve", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	tampered := s.get(t, href)
	wantStatus(t, tampered, http.StatusConflict)
	if !strings.Contains(tampered.body, "no longer has the SHA-256 it was written with") {
		t.Errorf("the changed file's download says %s", truncate(tampered.body))
	}
	downloads, _, _ := s.DB.FindAuditEvents(s.Ctx, instancehub.AuditFilter{Action: "audit.download"})
	var results []string
	for _, e := range downloads {
		results = append(results, e.Result)
	}
	if strings.Join(results, ",") != "failed,succeeded" {
		t.Errorf("the downloads' audit events: %v, newest first; want one that succeeded, then one refused", results)
	}
}
