package web_test

import (
	"net/http"
	"testing"

	"github.com/instancehub/instancehub"
)

// TestKeptRowsFollowRolesAndAccess: the list's rows are kept as rendered
// and shared between viewers with the same access, never between viewers
// with other access: an Owner and a Reader viewing the same instance in
// turn each get their own actions, and a role given or taken back shows
// at the next view.
func TestKeptRowsFollowRolesAndAccess(t *testing.T) {
	ada := newSite(t, 0)
	ada.signIn(t, "ada@example.com")
	ada.create(t, "ada-box", nil)
	ada.waitRunning(t, "ada-box")
	ada.get(t, "/instances") // takes the create's notice

	ada.EnsureUser(t, "cy@example.com", "Cy", instancehub.RoleReader)
	cy := &site{Portal: ada.Portal, server: ada.server, client: newClient(), web: ada.web}
	cy.signIn(t, "cy@example.com")

	actions := func(s *site, who string) int {
		t.Helper()
		r := s.get(t, "/instances")
		wantStatus(t, r, http.StatusOK)
		row := r.doc.Find(`tr[data-name="ada-box"]`)
		if row.Length() != 1 {
			t.Fatalf("%s: no row for ada-box", who)
		}
		return row.Find("button[formaction]").Length() + row.Find(`input[name="n"]`).Length()
	}
	for range 2 { // the second round from the kept rows
		if n := actions(ada, "the Owner"); n != 5 {
			t.Fatalf("the Owner sees %d actions and checkboxes, want 4 and 1", n)
		}
		if n := actions(cy, "the Reader"); n != 0 {
			t.Fatalf("the Reader sees %d actions", n)
		}
	}

	// A role given shows at once, and taken back, too.
	assignment, err := ada.Service.AssignRoleFromCLI(ada.Ctx, "cy@example.com", instancehub.RoleOwner)
	if err != nil {
		t.Fatal(err)
	}
	if n := actions(cy, "the Reader made Owner"); n != 5 {
		t.Fatalf("the Reader made Owner sees %d actions and checkboxes", n)
	}
	if _, err := ada.Service.RemoveRoleAssignment(ada.As(ada.User), assignment.ID); err != nil {
		t.Fatal(err)
	}
	if n := actions(cy, "the Owner made Reader again"); n != 0 {
		t.Fatalf("the Owner made Reader again sees %d actions", n)
	}
	if n := actions(ada, "the Owner"); n != 5 {
		t.Fatalf("the Owner sees %d actions and checkboxes", n)
	}
}
