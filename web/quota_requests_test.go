package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/instancehub/instancehub"
)

// TestQuotaRequestWithoutScript: a Data Scientist finds "Request quota"
// beside a size the workspace's limit cannot fit and beside the size's
// field error, asks on its form (refused beside the field without a
// reason), and is sent back to the create form; the Owner sees the request
// on the quota page, is told beside it that a decline needs a reason,
// grants it in one click (the limit rises), and is refused a second
// decision; the requester is told the answer on their next visit, once.
// A decline with htmx swaps the quota page's body and says so in a toast.
func TestQuotaRequestWithoutScript(t *testing.T) {
	s := newSite(t, 0)
	s.signIn(t, "ada@example.com")
	s.EnsureUser(t, "dana@example.com", "Dana Scientist", instancehub.RoleDataScientist)
	dana := &site{Portal: s.Portal, server: s.server, client: newClient()}
	dana.signIn(t, "dana@example.com")
	if err := s.Service.SetWorkspaceLimit(s.Ctx, "eastus", "standardDSv2Family", 4, false); err != nil {
		t.Fatal(err)
	}

	form := dana.get(t, "/instances/new?region=eastus")
	wantStatus(t, form, http.StatusOK)
	link := form.doc.Find(`[data-size="Standard_DS4_v2"] [data-testid="request-quota"]`)
	href, _ := link.Attr("href")
	if label, _ := link.Attr("aria-label"); label != "Request quota for Standard_DS4_v2" || href != "/quota/requests/new?family=standardDSv2Family&region=eastus&vcpus=4" {
		t.Fatalf("DS4_v2's link %q to %q", label, href)
	}
	if form.doc.Find(`[data-size="Standard_DS3_v2"] [data-testid="request-quota"]`).Length() != 0 {
		t.Error("a size that fits offers to request quota")
	}
	r := dana.post(t, "/instances", url.Values{"name": {"big-box"}, "region": {"eastus"}, "vm_size": {"Standard_DS4_v2"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if h, _ := r.doc.Find(`#vm_size-error + [data-testid="request-quota"]`).Attr("href"); h != href {
		t.Errorf("the size's field error links to %q, want %q", h, href)
	}

	ask := dana.get(t, href)
	wantStatus(t, ask, http.StatusOK)
	if v, _ := ask.doc.Find(`#request-vcpus`).Attr("value"); v != "4" || text(ask.doc.Find(`[data-testid="request-family"]`)) != "Standard DSv2 Family" {
		t.Fatalf("the form asks %q of %q", v, text(ask.doc.Find(`[data-testid="request-family"]`)))
	}
	fields := url.Values{"region": {"eastus"}, "family": {"standardDSv2Family"}, "vcpus": {"4"}, "reason": {" "}}
	r = dana.post(t, "/quota/requests", fields)
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if msg := text(r.doc.Find(`[data-testid="request-reason-error"]`)); !strings.Contains(msg, "Say why you need it") {
		t.Errorf("no reason: %q", msg)
	}
	if open, _ := s.DB.OpenQuotaRequests(s.Ctx); len(open) != 0 {
		t.Fatalf("a refused request was kept: %+v", open)
	}
	fields.Set("reason", "Training a bigger model this week.")
	r = dana.post(t, "/quota/requests", fields)
	wantStatus(t, r, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); loc != "/instances/new?region=eastus" {
		t.Errorf("after asking: %q", loc)
	}
	if toast := text(dana.get(t, "/instances/new?region=eastus").doc.Find(`[data-testid="toast"]`)); !strings.Contains(toast, "is sent to the workspace's Owners") {
		t.Errorf("toast %q", toast)
	}

	quota := s.get(t, "/quota?region=eastus")
	row := quota.doc.Find(`[data-testid="quota-request"]`)
	if row.Length() != 1 || !strings.Contains(text(row), "Dana Scientist") || !strings.Contains(text(row), "Training a bigger model") {
		t.Fatalf("the Owner's quota page lists %q", text(row))
	}
	id, _ := row.Attr("data-id")
	r = s.post(t, "/quota/requests/"+id+"/decline", url.Values{"region": {"eastus"}, "answer": {""}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if msg := text(r.doc.Find(`[data-testid="decision-error"]`)); !strings.Contains(msg, "Say why you decline") {
		t.Errorf("decline without a reason: %q", msg)
	}
	r = s.post(t, "/quota/requests/"+id+"/grant", url.Values{"region": {"eastus"}})
	wantStatus(t, r, http.StatusSeeOther)
	quota = s.get(t, "/quota?region=eastus")
	if limit, _ := quota.doc.Find(`tr[data-family="standardDSv2Family"]`).Attr("data-limit"); limit != "8" {
		t.Errorf("limit after the grant %q, want 8", limit)
	}
	if toast := text(quota.doc.Find(`[data-testid="toast"]`)); !strings.HasPrefix(toast, "Granted: the workspace's limit for Standard DSv2 Family in eastus rose by 4 vCPUs.") {
		t.Errorf("toast %q", toast)
	}
	r = s.post(t, "/quota/requests/"+id+"/decline", url.Values{"region": {"eastus"}, "answer": {"too late"}})
	wantStatus(t, r, http.StatusConflict)
	if !strings.Contains(r.body, "Ada Lovelace granted this request already") {
		t.Errorf("a second decision: %s", truncate(r.body))
	}

	r = dana.get(t, "/instances")
	wantStatus(t, r, http.StatusSeeOther)
	told := dana.get(t, r.Header.Get("Location")).doc.Find(`[data-testid="toast"]`)
	if toast := text(told); toast != "Ada Lovelace granted your request for 4 vCPUs more of Standard DSv2 Family in eastus: the workspace's limit is raised." {
		t.Errorf("the requester's notice %q", toast)
	}
	if _, stays := told.Attr("data-stays"); !stays || !told.HasClass("toast-success") {
		t.Errorf("the answer's toast leaves by itself, or is not a success: %v", told.AttrOr("class", ""))
	}
	wantStatus(t, dana.get(t, "/instances"), http.StatusOK)

	// With htmx, a decline swaps the page's body.
	fields.Set("vcpus", "40")
	wantStatus(t, dana.post(t, "/quota/requests", fields), http.StatusSeeOther)
	id = s.get(t, "/quota?region=eastus").doc.Find(`[data-testid="quota-request"]`).AttrOr("data-id", "")
	r = s.post(t, "/quota/requests/"+id+"/decline", url.Values{"region": {"eastus"}, "answer": {"Azure's limit is 40."}}, "HX-Request", "true")
	wantStatus(t, r, http.StatusOK)
	if r.doc.Find(`#quota-body`).Length() != 1 || r.doc.Find(`[data-testid="quota-request"]`).Length() != 0 ||
		!strings.Contains(text(r.doc.Find(`[data-testid="toast"]`)), "Declined Dana Scientist's request") {
		t.Errorf("htmx decline: %s", truncate(r.body))
	}
	r = dana.get(t, "/instances/new?region=eastus")
	wantStatus(t, r, http.StatusSeeOther)
	if toast := text(dana.get(t, r.Header.Get("Location")).doc.Find(`[data-testid="toast"]`)); !strings.HasSuffix(toast, "declined your request for 40 vCPUs more of Standard DSv2 Family in eastus: Azure's limit is 40.") {
		t.Errorf("the requester's notice %q", toast)
	}
}
