package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/instancehub/instancehub"
)

// TestBulkActions: rows the user may act on have a checkbox named for
// them; the toolbar's Stop acts on the selected rows, each on its own
// rules, and the list then says what it did and what it refused and why.
// A bulk Delete without script asks on a page of its own first.
func TestBulkActions(t *testing.T) {
	s := newSite(t, 0)
	dana := s.EnsureUser(t, "dana@example.com", "Dana Data", instancehub.RoleDataScientist)
	for _, name := range []string{"dana-one", "dana-two"} {
		s.SeedNamed(t, name, dana)
	}
	s.SeedNamed(t, "ada-box", s.User)
	s.MakeVMs(t)
	s.signIn(t, "dana@example.com")

	list := s.get(t, "/instances")
	for name, want := range map[string]int{"dana-one": 1, "dana-two": 1, "ada-box": 0} {
		box := list.doc.Find(`tr[data-name="` + name + `"] input[name="n"]`)
		if label, _ := box.Attr("aria-label"); box.Length() != want || (want == 1 && label != "Select "+name) {
			t.Errorf("%s: %d checkboxes (%q), want %d", name, box.Length(), label, want)
		}
	}
	for _, kind := range []string{"Start", "Stop", "Restart", "Delete"} {
		b := list.doc.Find(`button[data-bulk][value="` + strings.ToLower(kind) + `"]`)
		if b.Length() != 1 || text(b) != kind+" selected" || b.AttrOr("form", "") != "row-actions" {
			t.Errorf("toolbar %s: %d buttons %q", kind, b.Length(), text(b))
		}
	}

	// Dana's form may name another's instance: the portal refuses it alone.
	r := s.post(t, "/instances/actions", url.Values{"action": {"stop"}, "n": {"dana-one", "dana-two", "ada-box"}})
	wantStatus(t, r, http.StatusSeeOther)
	toast := text(s.get(t, "/instances").doc.Find(".toast"))
	if !strings.Contains(toast, "Stopping 2 instances: dana-one, dana-two.") || !strings.Contains(toast, "Not stopped: ada-box (You need the instances/manage permission") {
		t.Errorf("notice = %q", toast)
	}
	for _, name := range []string{"dana-one", "dana-two"} {
		s.WaitState(t, name, instancehub.StateStopped)
	}
	if inst, _ := s.DB.FindInstanceByName(s.Ctx, "ada-box"); inst.State != instancehub.StateRunning {
		t.Errorf("ada-box is %s", inst.State)
	}

	r = s.post(t, "/instances/actions", url.Values{"action": {"delete"}, "n": {"dana-one", "dana-two"}})
	wantStatus(t, r, http.StatusOK)
	if got := texts(r.doc.Find(`[data-testid="bulk-delete-names"] li`)); len(got) != 2 {
		t.Fatalf("the delete page lists %v", got)
	}
	if inst, _ := s.DB.FindInstanceByName(s.Ctx, "dana-one"); inst.State != instancehub.StateStopped {
		t.Errorf("asking deleted dana-one: %s", inst.State)
	}
	r = s.post(t, "/instances/actions", url.Values{"action": {"delete"}, "confirmed": {"1"}, "n": {"dana-one", "dana-two"}})
	wantStatus(t, r, http.StatusSeeOther)
	for _, name := range []string{"dana-one", "dana-two"} {
		s.WaitGone(t, name)
	}

	r = s.post(t, "/instances/actions", url.Values{"action": {"start"}})
	wantStatus(t, r, http.StatusSeeOther)
	if toast := text(s.get(t, "/instances").doc.Find(".toast")); !strings.Contains(toast, "Select the instances to start first") {
		t.Errorf("nothing selected: %q", toast)
	}
}
