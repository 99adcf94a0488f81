package e2e

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/store"
	"github.com/mxschmitt/playwright-go"
)

// TestArchiveAuditJourney: an Owner moves the audit log's events of two
// months ago into a file from Settings, confirming first, and downloads the
// file, which holds them. The events are dated days before now, whatever
// day the test runs.
func TestArchiveAuditJourney(t *testing.T) {
	p := startPortal(t)
	ctx, now := context.Background(), time.Now().UTC()
	db, err := store.Open(ctx, filepath.Join(p.Data, "instancehub.db"))
	must(t, err)
	for _, daysAgo := range []int{70, 60} {
		must(t, db.RecordAudit(ctx, &instancehub.AuditEvent{At: now.AddDate(0, 0, -daysAgo), UserName: "Grace", UserEmail: "grace@example.com",
			Action: "instance.stop", Target: "vision-box", Result: instancehub.AuditSucceeded}))
	}
	must(t, db.Close())

	page := newPage(t)
	signIn(t, page, p.URL, "admin@example.com", adminPassword)
	_, err = page.Goto(p.URL + "/settings")
	must(t, err)
	must(t, page.GetByLabel("Archive the events before").Fill(now.AddDate(0, 0, -45).Format(time.DateOnly)))
	must(t, button(page.Locator("main"), "Archive…").Click())
	must(t, expect.Locator(page.GetByRole("heading", playwright.PageGetByRoleOptions{Name: "Archive 2 events of the audit log?"})).ToBeVisible())
	checkAccessibility(t, page, "archive the audit log: confirm")
	must(t, button(page.Locator("main"), "Archive and remove").Click())
	must(t, page.WaitForURL(p.URL+"/settings"))
	must(t, expect.Locator(page.Locator(".toast")).ToContainText("Archived 2 events"))
	link := page.GetByRole("link", playwright.PageGetByRoleOptions{Name: "Download the archive of the events before " + now.AddDate(0, 0, -45).Format(time.DateOnly)})
	must(t, expect.Locator(link).ToBeVisible())
	checkAccessibility(t, page, "settings with an archive")

	download, err := page.ExpectDownload(func() error { return link.Click() })
	must(t, err)
	saved := filepath.Join(t.TempDir(), download.SuggestedFilename())
	must(t, download.SaveAs(saved))
	f, err := os.Open(saved)
	must(t, err)
	defer f.Close()
	if count, _, err := instancehub.ReadAuditArchive(f); err != nil || count != 2 {
		t.Errorf("the downloaded archive holds %d events (%v), want 2", count, err)
	}
}
