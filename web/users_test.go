package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/internal/testportal"
)

// TestAddUserAndSetPassword: an Owner adds someone from the access control
// page and passes on the link shown; the link sets a password once, and
// the new account signs in with it.
func TestAddUserAndSetPassword(t *testing.T) {
	s := newSite(t, 0)
	s.signIn(t, "ada@example.com") // an Owner
	page := s.post(t, "/access/users", url.Values{"email": {"nora@example.com"}, "name": {"Nora New"}, "role": {""}})
	wantStatus(t, page, http.StatusUnprocessableEntity)
	if got := text(page.doc.Find(`[data-testid="new-role-error"]`)); got != "Choose a role." {
		t.Fatalf("no role: %q", got)
	}
	page = s.post(t, "/access/users", url.Values{"email": {"nora@example.com"}, "name": {"Nora New"}, "role": {"Data Scientist"}})
	wantStatus(t, page, http.StatusOK)
	link := text(page.doc.Find(`[data-testid="password-link"]`))
	if !strings.HasPrefix(link, s.server.URL+"/set-password?token=") {
		t.Fatalf("link %q", link)
	}
	if !strings.Contains(text(s.get(t, "/access").doc.Find("#assignments")), "nora@example.com") {
		t.Error("Nora's role is not listed")
	}

	// Nora, signed out, opens the link and sets her password.
	s.client = newClient()
	path := strings.TrimPrefix(link, s.server.URL)
	wantStatus(t, s.get(t, path), http.StatusOK)
	token, _ := url.ParseQuery(strings.SplitN(path, "?", 2)[1])
	set := url.Values{"token": {token.Get("token")}, "password": {"nora-password-1"}, "confirm": {"nora-password-1"}}
	r := s.post(t, "/set-password", set)
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/login" {
		t.Fatalf("set password: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	if got := text(s.get(t, "/login").doc.Find(".toast")); !strings.Contains(got, "Your password is set") {
		t.Fatalf("the sign-in page after setting the password says %q", got)
	}
	in := s.post(t, "/login", url.Values{"email": {"nora@example.com"}, "password": {"nora-password-1"}})
	if in.StatusCode != http.StatusSeeOther {
		t.Fatalf("Nora signs in with her password: %d", in.StatusCode)
	}

	// The link works once.
	s.client = newClient()
	wantStatus(t, s.get(t, path), http.StatusGone)
	again := s.post(t, "/set-password", url.Values{"token": {token.Get("token")}, "password": {"someone-else-1"}, "confirm": {"someone-else-1"}})
	wantStatus(t, again, http.StatusGone)
	if got := text(again.doc.Find(`[data-testid="link-error"]`)); !strings.Contains(got, "used already") {
		t.Fatalf("replayed link: %q", got)
	}
}

// TestSignedOutForLostAccessIsToldWhy: someone whose last role is removed
// is signed out everywhere, and the sign-in page they land on says why.
func TestSignedOutForLostAccessIsToldWhy(t *testing.T) {
	s := newSite(t, 0)
	bob := s.EnsureUser(t, "bob@example.com", "Bob", instancehub.RoleReader)
	s.signIn(t, "bob@example.com")
	wantStatus(t, s.get(t, "/instances"), http.StatusOK)

	page, err := s.Service.RoleAssignments(s.Ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range page.Assignments {
		if a.UserID == bob.ID {
			if _, err := s.Service.RemoveRoleAssignment(s.Ctx, a.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	r := s.get(t, "/instances")
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
		t.Fatalf("after losing his role: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	login := s.get(t, r.Header.Get("Location"))
	if got := text(login.doc.Find(".toast")); !strings.Contains(got, "your access changed") {
		t.Fatalf("the sign-in page says %q", got)
	}
}

// TestDisableAndEnableAUser: an Owner disables an account from the Users
// tab; its session ends at once, it cannot sign in, its instance stays; it
// signs in again once enabled. Nobody disables themself or the last Owner.
func TestDisableAndEnableAUser(t *testing.T) {
	s := newSite(t, 0)
	bob := s.EnsureUser(t, "bob@example.com", "Bob", instancehub.RoleDataScientist)
	s.SeedNamed(t, "bobs-box", bob)
	bobs := &site{Portal: s.Portal, server: s.server, client: newClient()}
	bobs.signIn(t, "bob@example.com")
	wantStatus(t, bobs.get(t, "/instances"), http.StatusOK)

	s.signIn(t, "ada@example.com") // an Owner
	people := s.get(t, "/access/people")
	if got := text(people.doc.Find(`tr[data-email="bob@example.com"] [data-testid="status"]`)); got != "Active" {
		t.Fatalf("Bob's status %q", got)
	}
	r := s.post(t, fmt.Sprintf("/access/people/%d/disable", bob.ID), nil)
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("disable: %d", r.StatusCode)
	}
	if got := text(s.get(t, "/access/people").doc.Find(`tr[data-email="bob@example.com"] [data-testid="status"]`)); got != "Disabled" {
		t.Fatalf("after disabling, Bob's status %q", got)
	}
	if r := bobs.get(t, "/instances"); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("Bob's session after he was disabled: %d", r.StatusCode)
	}
	// Its sign-in answers as a wrong password does, whatever the password.
	in := bobs.post(t, "/login", url.Values{"email": {"bob@example.com"}, "password": {testportal.Password}})
	wrong := bobs.post(t, "/login", url.Values{"email": {"bob@example.com"}, "password": {"not the password"}})
	said, saidWrong := text(in.doc.Find(`[data-testid="login-error"]`)), text(wrong.doc.Find(`[data-testid="login-error"]`))
	if in.StatusCode != http.StatusUnauthorized || said == "" || said != saidWrong || in.StatusCode != wrong.StatusCode {
		t.Fatalf("a disabled account with its password: %d %q; with a wrong one: %d %q", in.StatusCode, said, wrong.StatusCode, saidWrong)
	}
	if inst, err := s.DB.FindInstanceByName(s.Ctx, "bobs-box"); err != nil || inst.State != instancehub.StateRunning {
		t.Fatalf("Bob's instance: %v %v", inst, err)
	}

	wantStatus(t, s.post(t, fmt.Sprintf("/access/people/%d/enable", bob.ID), nil), http.StatusSeeOther)
	bobs.client = newClient()
	bobs.signIn(t, "bob@example.com")

	// Not oneself, and not the last Owner.
	if _, err := s.Service.SetUserDisabled(s.Ctx, s.User.ID, true); instancehub.ErrorCode(err) != instancehub.ECONFLICT {
		t.Fatalf("disabling oneself: %v", err)
	}
	other := s.EnsureUser(t, "olga@example.com", "Olga", instancehub.RoleOwner)
	if _, err := s.Service.SetUserDisabled(s.As(other), s.User.ID, true); err != nil {
		t.Fatalf("another Owner disables Ada: %v", err)
	}
	if _, err := s.Service.SetUserDisabled(s.As(bob), other.ID, true); instancehub.ErrorCode(err) != instancehub.EFORBIDDEN {
		t.Fatalf("a Data Scientist disables an Owner: %v", err)
	}
}

// TestDisabledAccountsLinkIsRefused: an Owner adds Nora, then disables her
// before she used her link: the link's page and its form are both refused,
// and stay so once she is enabled again; no password was set.
func TestDisabledAccountsLinkIsRefused(t *testing.T) {
	s := newSite(t, 0)
	s.signIn(t, "ada@example.com") // an Owner
	page := s.post(t, "/access/users", url.Values{"email": {"nora@example.com"}, "name": {"Nora New"}, "role": {"Reader"}})
	wantStatus(t, page, http.StatusOK)
	path := strings.TrimPrefix(text(page.doc.Find(`[data-testid="password-link"]`)), s.server.URL)
	query, _ := url.ParseQuery(strings.SplitN(path, "?", 2)[1])
	nora, err := s.DB.FindUserByEmail(s.Ctx, "nora@example.com")
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, s.post(t, fmt.Sprintf("/access/people/%d/disable", nora.ID), nil), http.StatusSeeOther)

	noras := &site{Portal: s.Portal, server: s.server, client: newClient()}
	for _, state := range []string{"disabled", "enabled again"} {
		if r := noras.get(t, path); r.StatusCode != http.StatusGone {
			t.Errorf("%s: the link's page answers %d", state, r.StatusCode)
		}
		r := noras.post(t, "/set-password", url.Values{"token": {query.Get("token")}, "password": {"nora-password-1"}, "confirm": {"nora-password-1"}})
		if r.StatusCode != http.StatusGone || text(r.doc.Find(`[data-testid="link-error"]`)) == "" {
			t.Errorf("%s: setting a password with the link answers %d", state, r.StatusCode)
		}
		wantStatus(t, s.post(t, fmt.Sprintf("/access/people/%d/enable", nora.ID), nil), http.StatusSeeOther)
	}
	in := noras.post(t, "/login", url.Values{"email": {"nora@example.com"}, "password": {"nora-password-1"}})
	wantStatus(t, in, http.StatusUnauthorized)
}
