package web_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
)

// auditRows is how many rows the audit log holds.
func auditRows(t *testing.T, s *site) int {
	t.Helper()
	_, total, err := s.DB.FindAuditEvents(s.Ctx, instancehub.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return total
}

// fixedClock stops the service's clock, so that everything a test does
// falls in one minute of the audit log's tallies. It stops at the time it
// is called: the cookies' lifetimes are counted from the wall's clock.
func fixedClock(s *site) time.Time {
	now := time.Now().UTC()
	s.Service.Now = func() time.Time { return now }
	return now
}

// TestRefreshesAreReads: a Reader's 2,000 Refreshes through the page add
// no row to the audit log (each wrote one, about 6 MB a minute on a log
// nobody may prune): a Refresh changes nothing anyone chose, as a read. A
// refused Refresh is still audited, tallied as refusals are.
func TestRefreshesAreReads(t *testing.T) {
	s := newSite(t, 0)
	fixedClock(s)
	s.EnsureUser(t, "rita@example.com", "Rita Reader", instancehub.RoleReader)
	s.EnsureUser(t, "nora@example.com", "Nora Norole")
	s.signIn(t, "rita@example.com")
	before := auditRows(t, s)
	for i := range 2000 {
		if r := s.post(t, "/instances/refresh", nil); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/instances" {
			t.Fatalf("refresh %d: status %d to %q\n%s", i, r.StatusCode, r.Header.Get("Location"), truncate(r.body))
		}
	}
	if added := auditRows(t, s) - before; added != 0 {
		t.Errorf("2,000 refreshes added %d audit rows, want none", added)
	}

	nobody := &site{Portal: s.Portal, server: s.server, client: newClient()}
	signIn(t, nobody, "nora@example.com")
	before = auditRows(t, s)
	for range 200 {
		wantStatus(t, nobody.post(t, "/instances/refresh", nil), http.StatusForbidden)
	}
	events, total, err := s.DB.FindAuditEvents(s.Ctx, instancehub.AuditFilter{Action: "instance.refresh"})
	if err != nil {
		t.Fatal(err)
	}
	added := auditRows(t, s) - before
	if added != 1 || total != 1 {
		t.Fatalf("200 refused refreshes added %d rows, %d of them refreshes; want one", added, total)
	}
	if e := events[0]; e.Count != 200 || e.Result != instancehub.AuditDenied || e.UserEmail != "nora@example.com" {
		t.Errorf("the refused refreshes' event = %+v, want Nora's denial counting 200", *e)
	}
}

// TestBadTokensAreSlowedAndTallied: 300 random bearer tokens from one
// address (which met no pause and left no trace) wait longer and longer
// after the first few, and leave one audit row counting them; a valid token
// from the same address is served at once all along.
func TestBadTokensAreSlowedAndTallied(t *testing.T) {
	s := newSite(t, 0)
	fixedClock(s)
	var waited []time.Duration
	s.Service.Wait = func(_ context.Context, d time.Duration) error { waited = append(waited, d); return nil }
	good := apiClient{s, newToken(t, s, "ada@example.com", instancehub.NewToken{})}
	before := auditRows(t, s)
	for i := range 300 {
		secret := make([]byte, 32)
		rand.Read(secret)
		guess := apiClient{s, instancehub.TokenPrefix + base64.RawURLEncoding.EncodeToString(secret)}
		if i%100 == 99 {
			guess.token = "not even a token " + fmt.Sprint(i)
		}
		wantStatus(t, guess.get(t, "/api/v1/computes"), http.StatusUnauthorized)
		if i == 150 {
			slowed := len(waited)
			wantStatus(t, good.get(t, "/api/v1/computes"), http.StatusOK)
			if len(waited) != slowed {
				t.Errorf("the valid token waited %v", waited[slowed:])
			}
		}
	}
	if len(waited) != 300-instancehub.FreeBadTokens {
		t.Fatalf("%d of 300 bad tokens waited, want all but the first %d", len(waited), instancehub.FreeBadTokens)
	}
	for i, d := range waited {
		if want := instancehub.BadTokenDelay(instancehub.FreeBadTokens + 1 + i); d != want {
			t.Fatalf("bad token %d waited %v, want %v", instancehub.FreeBadTokens+1+i, d, want)
		}
	}
	if waited[len(waited)-1] != instancehub.MaxBadTokenDelay {
		t.Errorf("the last bad token waited %v, want the most, %v", waited[len(waited)-1], instancehub.MaxBadTokenDelay)
	}
	events, total, err := s.DB.FindAuditEvents(s.Ctx, instancehub.AuditFilter{Action: "request.token"})
	if err != nil {
		t.Fatal(err)
	}
	if total != 1 {
		t.Fatalf("the bad tokens left %d audit events, want one", total)
	}
	if e := events[0]; e.Count != 300 || e.Result != instancehub.AuditDenied || e.SourceIP != "127.0.0.1" {
		t.Errorf("the bad tokens' audit event = %+v, want a denial from 127.0.0.1 counting 300", *e)
	}
	// One row for the guesses, one for the valid token's first use.
	if added := auditRows(t, s) - before; added != 2 {
		t.Errorf("the guesses and one valid call added %d audit rows, want 2", added)
	}
	wantStatus(t, good.get(t, "/api/v1/computes"), http.StatusOK)
}

// TestFailuresAreTallied: a signed-in Reader's 2,000 token requests that
// fail (an empty name), which each wrote a row, leave one row counting them:
// a failure changed nothing, as a refusal did not, and anyone signed in can
// repeat it at will. A success is still a row of its own.
func TestFailuresAreTallied(t *testing.T) {
	s := newSite(t, 0)
	fixedClock(s)
	s.EnsureUser(t, "rita@example.com", "Rita Reader", instancehub.RoleReader)
	s.signIn(t, "rita@example.com")
	before := auditRows(t, s)
	for range 2000 {
		wantStatus(t, s.post(t, "/tokens", url.Values{"name": {""}, "expires": {"30d"}}), http.StatusUnprocessableEntity)
	}
	events, total, err := s.DB.FindAuditEvents(s.Ctx, instancehub.AuditFilter{Action: "token.create"})
	if err != nil {
		t.Fatal(err)
	}
	if added := auditRows(t, s) - before; added != 1 || total != 1 {
		t.Fatalf("2,000 failed token requests added %d rows, %d of them token.create; want one", added, total)
	}
	if e := events[0]; e.Count != 2000 || e.Result != instancehub.AuditFailed || e.UserEmail != "rita@example.com" {
		t.Errorf("the failures' event = %+v, want Rita's failure counting 2,000", *e)
	}
	wantStatus(t, s.post(t, "/tokens", url.Values{"name": {"laptop"}, "expires": {"30d"}}), http.StatusCreated)
	if _, total, _ := s.DB.FindAuditEvents(s.Ctx, instancehub.AuditFilter{Action: "token.create"}); total != 2 {
		t.Errorf("after a success, %d token.create rows, want the tally and the success", total)
	}
}
