package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/instancehub/instancehub"
)

// TestOwnerFilter: ?owner=EMAIL keeps that account's instances, from the
// list's filter bar (a select of the accounts owning some) and from the
// Users tab's count of each account's instances; with "Only mine" it keeps
// the user's own only if they are that owner; an email no account has is
// said beside the control (and is a field error in the API). An instance
// its creator owns shows a dash named "Same as creator" in the Owner cell.
func TestOwnerFilter(t *testing.T) {
	s := newSite(t, 0)
	s.signIn(t, "ada@example.com")
	bob := s.EnsureUser(t, "bob@example.com", "Bob Builder", instancehub.RoleDataScientist)
	s.EnsureUser(t, "cy@example.com", "Cy Nothing", instancehub.RoleReader)
	s.Seed(t, "ada", 3, s.User)
	s.Seed(t, "bob", 2, bob)

	people := s.get(t, "/access/people")
	wantStatus(t, people, http.StatusOK)
	link := people.doc.Find(`a[aria-label="2 instances of Bob Builder"]`)
	href, _ := link.Attr("href")
	if href != "/instances?owner=bob%40example.com" || text(link) != "2" {
		t.Fatalf("Bob's instances link to %q (%q)", href, text(link))
	}
	if people.doc.Find(`a[href*="cy%40example.com"]`).Length() != 0 {
		t.Error("an account without instances links to an empty list")
	}

	r := s.get(t, href)
	wantStatus(t, r, http.StatusOK)
	if names := r.doc.Find(`tr[data-name]`).Map(func(_ int, row *goquery.Selection) string { return row.AttrOr("data-name", "") }); strings.Join(names, " ") != "bob0002 bob0001" {
		t.Errorf("owner=bob lists %v", names)
	}
	owner := r.doc.Find(`select#owner`)
	if label := text(r.doc.Find(`label[for="owner"]`)); label != "Owner" {
		t.Errorf("the owner filter's label %q", label)
	}
	if chosen := owner.Find(`option[selected]`).AttrOr("value", ""); chosen != "bob@example.com" {
		t.Errorf("the owner filter shows %q chosen", chosen)
	}
	if opts := owner.Find("option").Map(func(_ int, o *goquery.Selection) string { return text(o) }); strings.Join(opts, "|") != "Anyone|Ada Lovelace (ada@example.com)|Bob Builder (bob@example.com)" {
		t.Errorf("owner options %v", opts)
	}
	// The filter is kept by the pager's and the columns' links.
	if sortLink := r.doc.Find(`th a[href*="sort=name"]`).AttrOr("href", ""); !strings.Contains(sortLink, "owner=bob%40example.com") {
		t.Errorf("sorting forgets the owner: %q", sortLink)
	}
	// htmx swaps the list alone, filtered.
	r = s.get(t, "/instances?owner=BOB@example.com", "HX-Request", "true", "HX-Target", "instance-list")
	if n := r.doc.Find(`tr[data-name]`).Length(); n != 2 {
		t.Errorf("htmx owner=bob: %d rows", n)
	}
	if r := s.get(t, "/instances?owner=bob@example.com&mine=1"); r.doc.Find(`[data-testid="no-matches"]`).Length() != 1 {
		t.Error("only mine and only Bob's should match nothing for Ada")
	}
	r = s.get(t, "/instances?owner=nobody@example.com")
	wantStatus(t, r, http.StatusOK)
	if msg := text(r.doc.Find(`[data-testid="owner-error"]`)); msg != "No account has the email nobody@example.com." ||
		r.doc.Find(`tr[data-name]`).Length() != 0 || owner.Length() != 1 {
		t.Errorf("unknown owner: %q, %d rows", msg, r.doc.Find(`tr[data-name]`).Length())
	}
	if v, _ := r.doc.Find(`select#owner`).Attr("aria-describedby"); v != "owner-error" {
		t.Errorf("the error is not the control's description: %q", v)
	}

	// Owner cell: a creator's own instance shows a named dash.
	row := s.get(t, "/instances").doc.Find(`tr[data-name="ada0001"]`)
	dash := row.Find(`[role="img"][aria-label="Same as creator"]`)
	if row.Find(`[data-testid="owner"]`).Length() != 0 || dash.Length() != 1 || text(dash.Parent()) != "—" {
		t.Errorf("the Owner cell of a creator's instance: %q", text(dash.Parent()))
	}

	api := apiClient{s, newToken(t, s, "ada@example.com", instancehub.NewToken{})}
	var list struct {
		Value []struct{ Name string } `json:"value"`
		Count int                     `json:"count"`
	}
	decodeJSON(t, api.get(t, "/api/v1/computes?owner=bob@example.com"), &list)
	if list.Count != 2 || len(list.Value) != 2 {
		t.Errorf("API owner=bob: %+v", list)
	}
	bad := api.get(t, "/api/v1/computes?owner=nobody@example.com")
	wantStatus(t, bad, http.StatusUnprocessableEntity)
	if !strings.Contains(bad.body, `"owner"`) || !strings.Contains(bad.body, "No account has the email nobody@example.com.") {
		t.Errorf("API unknown owner: %s", bad.body)
	}
}
