package web_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
)

// The unlock picker lists only the accounts with failed sign-ins, each
// with its count (it listed every account); once forgotten, an account
// leaves it.
func TestTheUnlockPickerListsOnlyAccountsWithFailures(t *testing.T) {
	s := newSite(t, 0)
	s.Service.Wait = func(context.Context, time.Duration) error { return nil }
	s.EnsureUser(t, "grace@example.com", "Grace Hopper", instancehub.RoleReader)
	s.EnsureUser(t, "alan@example.com", "Alan Turing", instancehub.RoleReader)
	s.EnsureUser(t, "edsger@example.com", "Edsger Dijkstra", instancehub.RoleReader)
	guesser := &site{Portal: s.Portal, server: s.server, client: newClient()}
	for email, n := range map[string]int{"grace@example.com": 3, "alan@example.com": 1} {
		for range n {
			wantStatus(t, guesser.post(t, "/login", url.Values{"email": {email}, "password": {"wrong"}}), http.StatusUnauthorized)
		}
	}
	s.signIn(t, "ada@example.com")
	options := func() []string {
		return texts(s.get(t, "/access").doc.Find(`#unlock-email option`))
	}
	want := []string{"Choose an account with failed sign-ins", "Alan Turing (alan@example.com): 1 failure", "Grace Hopper (grace@example.com): 3 failures"}
	if got := options(); len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("options = %q, want %q", got, want)
	}
	for _, email := range []string{"grace@example.com", "alan@example.com"} {
		wantStatus(t, s.post(t, "/access/unlock", url.Values{"email": {email}}), http.StatusSeeOther)
	}
	if got := options(); len(got) != 1 || got[0] != "No account has failed sign-ins" {
		t.Errorf("after unlocking: %q", got)
	}
}
