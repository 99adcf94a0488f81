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
	if err := s.Service.SetWorkspaceLimit(s.Ctx, "eastus", "standardDSv2Family", 0, true); err != nil {
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

// TestLimitBelowUseAsksFirst: on the page, a limit below the family's use
// answers the form again with the use named beside the field and a "Save
// anyway" button, and changes nothing; that button sets it, with no script.
// The API answers 409 until belowUse is true.
func TestLimitBelowUseAsksFirst(t *testing.T) {
	s := newSite(t, 0)
	s.signIn(t, "ada@example.com")
	wantStatus(t, s.create(t, "held-box", nil), http.StatusSeeOther)
	s.waitRunning(t, "held-box")

	r := s.post(t, "/quota", url.Values{"region": {"eastus"}, "family": {"standardDSv2Family"}, "limit": {"2"}})
	wantStatus(t, r, http.StatusConflict)
	row := r.doc.Find(`tr[data-family="standardDSv2Family"]`)
	if msg := text(row.Find(`[data-testid="limit-error"]`)); !strings.HasPrefix(msg, "4 vCPUs of Standard DSv2 Family are in use in eastus (held-box), more than a limit of 2.") {
		t.Errorf("warning = %q", msg)
	}
	if v, _ := row.Find(`input[name="limit"]`).Attr("value"); v != "2" {
		t.Errorf("the limit typed = %q, want 2 kept", v)
	}
	anyway := row.Find(`button[name="below_use"][value="1"]`)
	if label, _ := anyway.Attr("aria-label"); label != "Save the limit for Standard DSv2 Family anyway" || text(anyway) != "Save anyway" {
		t.Errorf("confirm button = %q (%q)", text(anyway), label)
	}
	if q, _ := s.DB.WorkspaceQuota(s.Ctx, "eastus"); len(q.Limits) != 0 {
		t.Fatalf("set without confirmation: %v", q.Limits)
	}
	wantStatus(t, s.post(t, "/quota", url.Values{"region": {"eastus"}, "family": {"standardDSv2Family"}, "limit": {"2"}, "below_use": {"1"}}), http.StatusSeeOther)
	if q, _ := s.DB.WorkspaceQuota(s.Ctx, "eastus"); q.Limits["standardDSv2Family"] != 2 {
		t.Errorf("confirmed: limits = %v", q.Limits)
	}

	a := apiClient{s, newToken(t, s, "ada@example.com", instancehub.NewToken{})}
	refused := a.call(t, "PUT", "/api/v1/quotas/eastus/cores", "application/json", `{"limit": 1}`)
	wantStatus(t, refused, http.StatusConflict)
	if e := apiErrorOf(t, refused); e.Error.Code != "conflict" || len(e.Error.Details) != 1 || e.Error.Details[0].Target != "limit" {
		t.Errorf("API below use: %s", refused.body)
	}
	wantStatus(t, a.call(t, "PUT", "/api/v1/quotas/eastus/cores", "application/json", `{"limit": 1, "belowUse": true}`), http.StatusOK)
	if q, _ := s.DB.WorkspaceQuota(s.Ctx, "eastus"); q.Limits[instancehub.TotalRegionalVCPUs] != 1 {
		t.Errorf("API confirmed: limits = %v", q.Limits)
	}
}
