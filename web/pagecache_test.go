package web_test

import (
	"compress/gzip"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/internal/testportal"
	"github.com/instancehub/instancehub/static"
	"github.com/instancehub/instancehub/store"
	"github.com/instancehub/instancehub/web"
)

// TestKeptPagesFollowEveryChange: the list is served as last rendered only
// while nothing was committed; a change through the portal, or one another
// process makes to the same database, shows at the next view.
func TestKeptPagesFollowEveryChange(t *testing.T) {
	s := newSite(t, 0)
	s.signIn(t, "ada@example.com")
	s.create(t, "ada-box", nil)
	s.waitRunning(t, "ada-box")

	s.get(t, "/instances") // takes the create's notice
	first := s.get(t, "/instances")
	again := s.get(t, "/instances")
	if first.body != again.body {
		t.Fatal("two views with nothing changed in between differ")
	}
	state := func(r *response) string { return text(r.doc.Find(`tr[data-name="ada-box"] [data-testid="state"]`)) }
	if got := state(again); got != "Running" {
		t.Fatalf("state %q", got)
	}

	// A change through the portal.
	if _, err := s.Service.Act(s.Ctx, "ada-box", instancehub.OpStop); err != nil {
		t.Fatal(err)
	}
	s.WaitState(t, "ada-box", instancehub.StateStopped)
	if got := state(s.get(t, "/instances")); got != "Stopped" {
		t.Fatalf("after Stop the list says %q", got)
	}
	row := s.get(t, "/instances/ada-box/row")
	if !strings.Contains(row.body, "Stopped") {
		t.Fatalf("the row after Stop: %s", row.body)
	}

	// A change by another process on the same database: the creator's name.
	other, err := store.Open(context.Background(), filepath.Join(s.Dir, "instancehub.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	ada, err := other.FindUserByEmail(context.Background(), "ada@example.com")
	if err != nil {
		t.Fatal(err)
	}
	ada.Name = "Ada King"
	if err := other.UpdateUser(context.Background(), ada); err != nil {
		t.Fatal(err)
	}
	if got := text(s.get(t, "/instances").doc.Find(`tr[data-name="ada-box"] td:nth-child(5)`)); got != "Ada King" {
		t.Fatalf("after another process renamed the creator, the list says %q", got)
	}
	if r := s.get(t, "/instances/ada-box/row"); !strings.Contains(r.body, "Ada King") {
		t.Fatalf("the row after the rename: %s", r.body)
	}

	// Another session never gets this one's page (its CSRF token is in it).
	s.EnsureUser(t, "bob@example.com", "Bob", instancehub.RoleOwner)
	mine := s.get(t, "/instances")
	s.client = newClient()
	s.signIn(t, "bob@example.com")
	if theirs := s.get(t, "/instances"); theirs.body == mine.body || !strings.Contains(theirs.body, ">Bob<") {
		t.Fatal("another session got this one's page")
	}
}

// TestKeptPagesKeepTheirCompression: a kept page is compressed at speed
// for the answer of the render that made it, once more as compress does
// (smaller) at its first view again, for the Accept-Encoding a browser
// sends, and its next views get those bytes as they are; a change makes a
// new page, compressed anew; another Accept-Encoding gets its own.
func TestKeptPagesKeepTheirCompression(t *testing.T) {
	s := newSite(t, 0)
	s.signIn(t, "ada@example.com")
	s.create(t, "ada-box", nil)
	s.waitRunning(t, "ada-box")
	s.get(t, "/instances") // takes the create's notice

	const browser = "gzip, deflate, br"
	plain := s.get(t, "/instances", "Accept-Encoding", "identity")
	first := s.get(t, "/instances", "Accept-Encoding", browser)
	again := s.get(t, "/instances", "Accept-Encoding", browser)
	third := s.get(t, "/instances", "Accept-Encoding", browser)
	for _, r := range []*response{first, again, third} {
		wantStatus(t, r, http.StatusOK)
		if r.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(r.Header.Get("Vary"), "Accept-Encoding") {
			t.Fatalf("Content-Encoding %q, Vary %q", r.Header.Get("Content-Encoding"), r.Header.Get("Vary"))
		}
		if got := gunzip(t, r.body); got != plain.body {
			t.Fatalf("the gzipped page is not the page:\n%s", truncate(got))
		}
	}
	kept, encoding, ok := s.web.KeptEncoded("/instances", browser)
	if !ok || encoding != "gzip" {
		t.Fatalf("no gzipped page kept (%v, %q)", ok, encoding)
	}
	if string(kept) != first.body || string(kept) != again.body || string(kept) != third.body {
		t.Fatal("the views did not get the kept gzipped bytes")
	}

	// A change: the next view is the new page, compressed anew.
	if _, err := s.Service.Act(s.Ctx, "ada-box", instancehub.OpStop); err != nil {
		t.Fatal(err)
	}
	s.WaitState(t, "ada-box", instancehub.StateStopped)
	after := s.get(t, "/instances", "Accept-Encoding", browser)
	page := gunzip(t, after.body)
	if page == plain.body || !strings.Contains(page, ">Stopped<") {
		t.Fatalf("after Stop, the gzipped list is the old page:\n%s", truncate(page))
	}
	if kept, _, _ := s.web.KeptEncoded("/instances", browser); string(kept) != after.body {
		t.Fatal("the page after Stop is not the one kept")
	}
	// That render's answer was compressed at speed; the next view's is
	// compressed as compress does, and kept for the views after it.
	for range 2 {
		next := s.get(t, "/instances", "Accept-Encoding", browser)
		if gunzip(t, next.body) != page {
			t.Fatalf("the next view is not the page:\n%s", truncate(gunzip(t, next.body)))
		}
		if next.body == after.body || len(next.body) > len(after.body) {
			t.Fatalf("the next view's answer (%d bytes) is the render's (%d), compressed at speed", len(next.body), len(after.body))
		}
		if kept, _, _ := s.web.KeptEncoded("/instances", browser); string(kept) != next.body {
			t.Fatal("the next view's answer is not the one kept")
		}
	}

	// Another Accept-Encoding: its own bytes, never another's.
	zstd := s.get(t, "/instances", "Accept-Encoding", "zstd")
	if zstd.Header.Get("Content-Encoding") != "zstd" || zstd.body == after.body {
		t.Fatalf("zstd asked, %q sent", zstd.Header.Get("Content-Encoding"))
	}
	if got := s.get(t, "/instances", "Accept-Encoding", "identity"); got.Header.Get("Content-Encoding") != "" || got.body != page {
		t.Fatalf("identity asked, %q sent", got.Header.Get("Content-Encoding"))
	}
	// The page as it is is not kept twice (100 sessions' pages would not
	// fit the cache, and every view would render).
	if kept, encoding, ok := s.web.KeptEncoded("/instances", "identity"); !ok || encoding != "" || len(kept) != 0 {
		t.Fatalf("identity kept as %q, %d bytes (%v)", encoding, len(kept), ok)
	}
}

func gunzip(t *testing.T, body string) string {
	t.Helper()
	r, err := gzip.NewReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// keptSite is a site whose web clock stands still, so that kept pages
// stay for the test's minute, with two sessions' lists kept: Ada's (an
// admin) and Bob's (an owner). It returns the two sessions' hashes.
func keptSite(t *testing.T) (s *site, ada, bob *http.Client, sessions []string) {
	t.Helper()
	p := testportal.Open(t, t.TempDir(), 0)
	frozen := time.Now()
	srv := web.New(web.Config{Workspace: "Test workspace", Static: static.FS, LocalAccounts: true,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return frozen }}, p.Service)
	server := httptest.NewServer(srv.Handler())
	t.Cleanup(server.Close)
	s = &site{Portal: p, server: server, client: newClient(), web: srv}
	s.signIn(t, "ada@example.com")
	s.create(t, "ada-box", nil)
	s.waitRunning(t, "ada-box")
	s.get(t, "/instances") // takes the create's notice
	ada = s.client
	s.EnsureUser(t, "bob@example.com", "Bob", instancehub.RoleOwner)
	bob = newClient()
	s.client = bob
	s.signIn(t, "bob@example.com")
	s.get(t, "/instances")
	s.client = ada
	s.get(t, "/instances")
	if sessions = srv.KeptCurrent(s.Ctx, "/instances"); len(sessions) != 2 {
		t.Fatalf("%d sessions' lists kept, want 2", len(sessions))
	}
	return s, ada, bob, sessions
}

// TestKeptPagesOutliveSessionTouches: a session's last-seen, written once
// a minute per session, is shown on no page, so it leaves every session's
// kept list; before, each touch (with 100 sessions, about two a second)
// dropped them all.
func TestKeptPagesOutliveSessionTouches(t *testing.T) {
	s, _, _, sessions := keptSite(t)
	for _, hash := range sessions {
		if err := s.DB.TouchSession(s.Ctx, hash, time.Now()); err != nil {
			t.Fatal(err)
		}
		if got := s.web.KeptCurrent(s.Ctx, "/instances"); !slices.Equal(got, sessions) {
			t.Fatalf("after a session's touch, the lists kept are %d of 2", len(got))
		}
	}
	// The touch is recorded, and read back at the next request.
	if got := s.get(t, "/instances"); got.StatusCode != http.StatusOK {
		t.Fatalf("the list after the touches: %d", got.StatusCode)
	}
}

// TestKeptPagesDropAtAStateChange: a Stop drops every kept list, and the
// next view shows it.
func TestKeptPagesDropAtAStateChange(t *testing.T) {
	s, _, _, _ := keptSite(t)
	if _, err := s.Service.Act(s.Ctx, "ada-box", instancehub.OpStop); err != nil {
		t.Fatal(err)
	}
	s.WaitState(t, "ada-box", instancehub.StateStopped)
	if got := s.web.KeptCurrent(s.Ctx, "/instances"); len(got) != 0 {
		t.Fatalf("after a Stop %d lists are still kept", len(got))
	}
	if got := text(s.get(t, "/instances").doc.Find(`tr[data-name="ada-box"] [data-testid="state"]`)); got != "Stopped" {
		t.Fatalf("after Stop the list says %q", got)
	}
}

// TestKeptPagesDropAtARoleChange: a role assigned drops every kept list
// (what a list offers follows its reader's roles).
func TestKeptPagesDropAtARoleChange(t *testing.T) {
	s, _, bob, _ := keptSite(t)
	if _, err := s.Service.AssignRole(s.Ctx, "bob@example.com", instancehub.RoleReader); err != nil {
		t.Fatal(err)
	}
	if got := s.web.KeptCurrent(s.Ctx, "/instances"); len(got) != 0 {
		t.Fatalf("after a role change %d lists are still kept", len(got))
	}
	s.client = bob
	if got := s.get(t, "/instances"); got.StatusCode != http.StatusOK {
		t.Fatalf("Bob's list after his role change: %d", got.StatusCode)
	}
}

// TestKeptPagesDropAtAQuotaChange: a workspace quota changed drops every
// kept list.
func TestKeptPagesDropAtAQuotaChange(t *testing.T) {
	s, _, _, _ := keptSite(t)
	if err := s.Service.SetWorkspaceLimit(s.Ctx, "eastus", "standardDSv2Family", 40, false); err != nil {
		t.Fatal(err)
	}
	if got := s.web.KeptCurrent(s.Ctx, "/instances"); len(got) != 0 {
		t.Fatalf("after a quota change %d lists are still kept", len(got))
	}
}
