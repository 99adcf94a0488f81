package web_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
	"github.com/oauth2-proxy/mockoidc"
)

// TestUsersTabShowsLastSignInAndInstances: the Users tab shows when each
// account last signed in, by password or single sign-on, on the test's
// clock ("Never" for one that never did), and how many live instances
// each owns.
func TestUsersTabShowsLastSignInAndInstances(t *testing.T) {
	s := newSite(t, 0)
	signedIn := time.Date(2031, 5, 4, 9, 30, 0, 0, time.UTC)
	s.Service.Now = func() time.Time { return signedIn }
	ada := s.EnsureUser(t, "ada@example.com", "Ada", instancehub.RoleOwner)
	s.EnsureUser(t, "bob@example.com", "Bob", instancehub.RoleReader)
	s.SeedNamed(t, "ada-one", ada)
	s.SeedNamed(t, "ada-two", ada)
	s.signIn(t, "ada@example.com")

	page := s.get(t, "/access/people")
	wantStatus(t, page, http.StatusOK)
	row := func(email, col string) string {
		return text(page.doc.Find(`tr[data-email="` + email + `"] [data-testid="` + col + `"]`))
	}
	if got, want := row("ada@example.com", "last-sign-in"), "May 4, 2031, 09:30 UTC"; got != want {
		t.Errorf("Ada's last sign-in = %q, want %q", got, want)
	}
	if got := row("bob@example.com", "last-sign-in"); got != "Never" {
		t.Errorf("Bob's last sign-in = %q, want Never", got)
	}
	if got := row("ada@example.com", "instances"); got != "2" {
		t.Errorf("Ada's instances = %q, want 2", got)
	}
	if got := row("bob@example.com", "instances"); got != "0" {
		t.Errorf("Bob's instances = %q, want 0", got)
	}
}

// TestSingleSignOnSetsLastSignIn: a sign-in through the identity provider
// is a sign-in too.
func TestSingleSignOnSetsLastSignIn(t *testing.T) {
	s := newSSOSite(t)
	signedIn := time.Date(2031, 5, 4, 9, 30, 0, 0, time.UTC)
	s.Service.Now = func() time.Time { return signedIn }
	s.issuer.QueueUser(&mockoidc.MockUser{Subject: "grace-1", Email: "grace@example.com", EmailVerified: true, Groups: []string{"ds-team"}})
	if done := s.follow(t, s.toProvider(t).String()); done.StatusCode != http.StatusSeeOther {
		t.Fatalf("callback: %d", done.StatusCode)
	}
	user, err := s.DB.FindUserByEmail(s.Ctx, "grace@example.com")
	if err != nil || !user.LastSignInAt.Equal(signedIn) {
		t.Fatalf("Grace's last sign-in = %v (%v), want %v", user.LastSignInAt, err, signedIn)
	}
}
