package service_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/internal/testportal"
)

func TestAddUserWithAPasswordLink(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0)
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	p.Service.Now = func() time.Time { return now }
	newcomer := instancehub.NewUser{Email: "nora@example.com", Name: "Nora New", Role: "Data Scientist"}

	// Only Owners add people, and a role must be chosen.
	reader := p.EnsureUser(t, "rita@example.com", "Rita Reader", instancehub.RoleReader)
	if _, _, err := p.Service.AddUser(p.As(reader), newcomer, true); instancehub.ErrorCode(err) != instancehub.EFORBIDDEN {
		t.Fatalf("a Reader adds a user: %v", err)
	}
	noRole := newcomer
	noRole.Role = ""
	if _, _, err := p.Service.AddUser(p.Ctx, noRole, true); instancehub.ErrorFields(err)["role"] != "Choose a role." {
		t.Fatalf("no role: %v", err)
	}

	user, token, err := p.Service.AddUser(p.Ctx, newcomer, true)
	if err != nil || len(token) < 40 {
		t.Fatalf("add: %v, token %q", err, token)
	}
	if roles, _ := p.DB.UserRoles(p.Ctx, user.ID); len(roles) != 1 || roles[0] != instancehub.RoleDataScientist {
		t.Fatalf("roles %v", roles)
	}
	// No password until the link is used.
	if _, err := p.Service.SignIn(p.Ctx, "nora@example.com", "", ""); err == nil {
		t.Fatal("signed in without a password")
	}
	if _, _, err := p.Service.AddUser(p.Ctx, newcomer, true); instancehub.ErrorFields(err)["email"] == "" {
		t.Fatalf("the same email twice: %v", err)
	}

	if !p.Service.PasswordLinkWorks(p.Ctx, token) {
		t.Fatal("a new link does not work")
	}
	if _, err := p.Service.SetPasswordWithLink(p.Ctx, token, "nora-password-1", "nora-password-2"); instancehub.ErrorFields(err)["confirm"] == "" {
		t.Fatalf("different passwords: %v", err)
	}
	if _, err := p.Service.SetPasswordWithLink(p.Ctx, token, "short", "short"); instancehub.ErrorFields(err)["password"] == "" {
		t.Fatalf("a short password: %v", err)
	}
	if _, err := p.Service.SetPasswordWithLink(p.Ctx, token+"x", "nora-password-1", "nora-password-1"); instancehub.ErrorFields(err)["link"] == "" {
		t.Fatalf("another token: %v", err)
	}

	// Used once, at the same time by two requests: one wins.
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for range 2 {
		wg.Go(func() {
			if _, err := p.Service.SetPasswordWithLink(p.Ctx, token, "nora-password-1", "nora-password-1"); err == nil {
				mu.Lock()
				won++
				mu.Unlock()
			} else if !strings.Contains(instancehub.ErrorFields(err)["link"], "used already") {
				t.Errorf("the second use: %v", err)
			}
		})
	}
	wg.Wait()
	if won != 1 {
		t.Fatalf("the link set the password %d times", won)
	}
	if _, err := p.Service.SignIn(p.Ctx, "nora@example.com", "nora-password-1", ""); err != nil {
		t.Fatalf("sign in with the password set: %v", err)
	}
	if p.Service.PasswordLinkWorks(p.Ctx, token) {
		t.Fatal("a used link still works")
	}

	// A link expires after 72 hours.
	_, late, err := p.Service.AddUser(p.Ctx, instancehub.NewUser{Email: "lea@example.com", Name: "Lea Late", Role: "Reader"}, true)
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(instancehub.PasswordLinkLifetime + time.Minute)
	if _, err := p.Service.SetPasswordWithLink(p.Ctx, late, "lea-password-1", "lea-password-1"); instancehub.ErrorFields(err)["link"] == "" {
		t.Fatalf("an expired link: %v", err)
	}

	// Without local accounts there is no link: single sign-on only.
	if _, none, err := p.Service.AddUser(p.Ctx, instancehub.NewUser{Email: "sso@example.com", Name: "Sam SSO", Role: "Reader"}, false); err != nil || none != "" {
		t.Fatalf("single sign-on only: %v, token %q", err, none)
	}
}

// TestDisablingEndsPasswordLinks: disabling an account ends its links to
// set a password, and enabling it again does not bring them back, so no
// password can have been chosen through a link while it was disabled.
func TestDisablingEndsPasswordLinks(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0)
	nora, token, err := p.Service.AddUser(p.Ctx, instancehub.NewUser{Email: "nora@example.com", Name: "Nora New", Role: "Reader"}, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Service.SetUserDisabled(p.Ctx, nora.ID, true); err != nil {
		t.Fatal(err)
	}
	for _, state := range []string{"disabled", "enabled again"} {
		if p.Service.PasswordLinkWorks(p.Ctx, token) {
			t.Errorf("%s: the link still works", state)
		}
		_, err := p.Service.SetPasswordWithLink(p.Ctx, token, "nora-password-1", "nora-password-1")
		if instancehub.ErrorFields(err)["link"] == "" {
			t.Errorf("%s: the link set a password: %v", state, err)
		}
		if _, err := p.Service.SetUserDisabled(p.Ctx, nora.ID, false); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.Service.SignIn(p.Ctx, "nora@example.com", "nora-password-1", ""); instancehub.ErrorCode(err) != instancehub.EUNAUTHORIZED {
		t.Errorf("the password chosen while disabled signs in: %v", err)
	}
}
