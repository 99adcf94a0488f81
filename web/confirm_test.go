package web_test

import (
	"net/http"
	"testing"

	"github.com/instancehub/instancehub"
)

// askWithoutScript follows, as a browser without script does, the form
// whose button is named button on the page at list: its GET must answer
// with a page asking question, whose form posts to the action. It returns
// that action, having changed nothing.
func askWithoutScript(t *testing.T, s *site, list, button, question string) string {
	t.Helper()
	form := s.get(t, list).doc.Find(`button[aria-label="` + button + `"], button:contains("` + button + `")`).First().Closest("form")
	if method, _ := form.Attr("method"); method != "get" {
		t.Fatalf("%s on %s: form method %q, want get (a page that asks)", button, list, method)
	}
	action, _ := form.Attr("action")
	if from, ok := form.Find(`input[name="from"]`).Attr("value"); ok {
		action = action[:len(action)-len("?from="+from)] + "?from=" + from
	}
	page := s.get(t, action)
	wantStatus(t, page, http.StatusOK)
	if got := text(page.doc.Find("h1")); got != question {
		t.Fatalf("the page asks %q, want %q", got, question)
	}
	post, _ := page.doc.Find(`form[method="post"]:has(button.button-danger)`).Attr("action")
	return post
}

// TestDisablingAsksFirstWithoutScript: Disable on the Users tab, without
// script, opens a page that asks; the account is disabled only when its
// form posts, to the action's own route.
func TestDisablingAsksFirstWithoutScript(t *testing.T) {
	s := newSite(t, 0)
	bob := s.EnsureUser(t, "bob@example.com", "Bob", instancehub.RoleDataScientist)
	s.signIn(t, "ada@example.com") // an Owner
	action := askWithoutScript(t, s, "/access/people", "Disable Bob", "Disable Bob?")
	if u, _ := s.DB.FindUserByID(s.Ctx, bob.ID); !u.DisabledAt.IsZero() {
		t.Fatal("asking disabled Bob")
	}
	if r := s.post(t, action, nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("confirm: %d", r.StatusCode)
	}
	if u, _ := s.DB.FindUserByID(s.Ctx, bob.ID); u.DisabledAt.IsZero() {
		t.Fatal("the confirmed form did not disable Bob")
	}
}

// TestRemovingARoleAsksFirstWithoutScript: Remove on the access page, the
// same way.
func TestRemovingARoleAsksFirstWithoutScript(t *testing.T) {
	s := newSite(t, 0)
	bob := s.EnsureUser(t, "bob@example.com", "Bob", instancehub.RoleReader)
	s.signIn(t, "ada@example.com")
	row := s.get(t, "/access").doc.Find(`tr[data-email="bob@example.com"]`)
	if row.Length() != 1 {
		t.Fatal("Bob's role is not listed")
	}
	action := askWithoutScript(t, s, "/access?role=Reader", "Remove", "Remove the Reader role from Bob?")
	if roles, _ := s.DB.UserRoles(s.Ctx, bob.ID); len(roles) != 1 {
		t.Fatalf("asking changed Bob's roles: %v", roles)
	}
	if r := s.post(t, action, nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("confirm: %d", r.StatusCode)
	}
	if roles, _ := s.DB.UserRoles(s.Ctx, bob.ID); len(roles) != 0 {
		t.Fatalf("the confirmed form left Bob's roles %v", roles)
	}
}

// TestRevokingATokenAsksFirstWithoutScript: Revoke, on one's own tokens
// and on the Owners' list of everyone's, the same way.
func TestRevokingATokenAsksFirstWithoutScript(t *testing.T) {
	s := newSite(t, 0)
	ada := s.EnsureUser(t, "ada@example.com", "Ada", instancehub.RoleOwner)
	s.signIn(t, "ada@example.com")
	for _, list := range []string{"/tokens", "/access/tokens"} {
		tok, err := s.Service.CreateToken(s.As(ada), instancehub.NewToken{Name: "ci" + list[1:3]})
		if err != nil {
			t.Fatal(err)
		}
		action := askWithoutScript(t, s, list, "Revoke "+tok.Name, "Revoke the token "+tok.Name+"?")
		live := func() bool {
			tokens, err := s.Service.APITokens(s.As(ada), false)
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range tokens {
				if x.ID == tok.ID {
					return x.RevokedAt.IsZero()
				}
			}
			t.Fatalf("token %s not listed", tok.Name)
			return false
		}
		if !live() {
			t.Fatalf("%s: asking revoked the token", list)
		}
		r := s.post(t, action, nil)
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != list {
			t.Fatalf("%s: confirm: %d to %q", list, r.StatusCode, r.Header.Get("Location"))
		}
		if live() {
			t.Fatalf("%s: the confirmed form did not revoke the token", list)
		}
	}
}
