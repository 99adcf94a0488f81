package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/instancehub/instancehub"
)

func TestQuotaPage(t *testing.T) {
	s := newSite(t, 0)
	s.signIn(t, "ada@example.com")
	wantStatus(t, s.create(t, "quota-box", nil), http.StatusSeeOther)
	s.waitRunning(t, "quota-box")

	r := s.get(t, "/quota?region=eastus")
	wantStatus(t, r, http.StatusOK)
	row := r.doc.Find(`tr[data-family="standardDSv2Family"]`)
	if used, _ := row.Attr("data-used"); used != "4" {
		t.Errorf("DSv2 in use = %q, want 4", used)
	}
	if label, _ := row.Find("svg").Attr("aria-label"); label != "4 of 40 (10%)" {
		t.Errorf("bar = %q", label)
	}
	if !strings.Contains(text(row.Find(".holders")), "quota-box") {
		t.Errorf("holders = %q", text(row.Find(".holders")))
	}
	if total := r.doc.Find(`tfoot tr[data-family="cores"]`); total.Length() != 1 {
		t.Error("no total row")
	}

	// An Owner sets a limit; above the subscription's is refused beside the field.
	r = s.post(t, "/quota", url.Values{"region": {"eastus"}, "family": {"standardDSv2Family"}, "limit": {"41"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if msg := text(r.doc.Find(`[data-testid="limit-error"]`)); !strings.Contains(msg, "at most 40 vCPUs") {
		t.Errorf("error = %q", msg)
	}
	wantStatus(t, s.post(t, "/quota", url.Values{"region": {"eastus"}, "family": {"standardDSv2Family"}, "limit": {"4"}}), http.StatusSeeOther)
	r = s.get(t, "/quota?region=eastus")
	row = r.doc.Find(`tr[data-family="standardDSv2Family"]`)
	if limit, _ := row.Attr("data-limit"); limit != "4" {
		t.Errorf("limit = %q", limit)
	}
	if class, _ := row.Find("svg").Attr("class"); class != "bar bar-full" {
		t.Errorf("a full family's bar = %q", class)
	}
	if toast := text(r.doc.Find(`[data-testid="toast"]`)); !strings.Contains(toast, "is now 4 vCPUs") {
		t.Errorf("toast = %q", toast)
	}
	// One is counted in words.
	wantStatus(t, s.post(t, "/quota", url.Values{"region": {"eastus"}, "family": {"standardNCSv3Family"}, "limit": {"1"}}), http.StatusSeeOther)
	if toast := text(s.get(t, "/quota?region=eastus").doc.Find(`[data-testid="toast"]`)); !strings.HasSuffix(toast, "is now 1 vCPU.") {
		t.Errorf("toast = %q, want 1 vCPU", toast)
	}
	// The size picker now marks the DSv2 sizes.
	form := s.get(t, "/instances/new")
	ds1 := form.doc.Find(`[data-size="Standard_DS1_v2"]`)
	if _, disabled := ds1.Find("input").Attr("disabled"); !disabled || !strings.Contains(text(ds1), "of the workspace's limit of 4") {
		t.Errorf("DS1_v2 = %q", text(ds1))
	}
	// Clearing removes the limit.
	wantStatus(t, s.post(t, "/quota", url.Values{"region": {"eastus"}, "family": {"standardDSv2Family"}, "limit": {""}}), http.StatusSeeOther)
	q, _ := s.DB.WorkspaceQuota(s.Ctx, "eastus")
	if _, set := q.Limits["standardDSv2Family"]; set {
		t.Error("the limit was not removed")
	}
	sub := s.get(t, "/quota?region=eastus&view=subscription")
	if used, _ := sub.doc.Find(`tr[data-family="standardDSv2Family"]`).Attr("data-used"); used != "4" {
		t.Errorf("subscription usage = %q", used)
	}
	// Start refused by the workspace quota arrives as a notice.
	if err := s.Service.SetWorkspaceLimit(s.Ctx, "eastus", "standardDSv2Family", 0); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, s.post(t, "/instances/quota-box/stop", nil), http.StatusSeeOther)
	s.WaitState(t, "quota-box", instancehub.StateStopped)
	r = s.post(t, "/instances/quota-box/start", url.Values{"from": {"row"}}, "HX-Request", "true")
	wantStatus(t, r, http.StatusConflict)
	if msg := text(r.doc.Find(".toast-danger")); msg != "Standard DSv2 Family: 4 vCPUs requested, but 0 of the workspace's limit of 0 are in use in eastus." {
		t.Errorf("start notice = %q", msg)
	}
}
