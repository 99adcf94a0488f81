package service_test

import (
	"strings"
	"testing"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/internal/testportal"
)

// TestQuotaRequestFromAskToGrant: a size over the workspace's limit says
// what it lacks; those who create instances may ask for it, a Reader may
// not; only Owners see and decide requests, once each; a grant raises the
// limit through the rules of any limit (never above Azure's), a decline
// needs a reason; the requester is told each answer once; each request,
// grant and decline writes one audit event.
func TestQuotaRequestFromAskToGrant(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0)
	owner := p.Ctx
	dana := p.As(p.EnsureUser(t, "dana@example.com", "Dana Scientist", instancehub.RoleDataScientist))
	rita := p.As(p.EnsureUser(t, "rita@example.com", "Rita Reader", instancehub.RoleReader))
	if err := p.Service.SetWorkspaceLimit(owner, "eastus", "standardDSv2Family", 4, false); err != nil {
		t.Fatal(err)
	}

	opts, err := p.Service.CreateOptions(dana, "eastus")
	if err != nil {
		t.Fatal(err)
	}
	short := map[string]instancehub.QuotaShortfall{}
	for _, o := range opts.Sizes {
		short[o.Name] = o.Short
	}
	if want := (instancehub.QuotaShortfall{Family: "standardDSv2Family", VCPUs: 4}); short["Standard_DS4_v2"] != want || short["Standard_DS3_v2"] != (instancehub.QuotaShortfall{}) {
		t.Fatalf("DS4_v2 lacks %+v, DS3_v2 %+v: want %+v and nothing", short["Standard_DS4_v2"], short["Standard_DS3_v2"], want)
	}

	ask := func(vcpus int, reason string) *instancehub.QuotaRequest {
		return &instancehub.QuotaRequest{Region: "eastus", Family: "standardDSv2Family", VCPUs: vcpus, Reason: reason}
	}
	if err := p.Service.RequestQuota(rita, ask(4, "please")); instancehub.ErrorCode(err) != instancehub.EFORBIDDEN {
		t.Fatalf("a Reader asks: %v, want EFORBIDDEN", err)
	}
	if _, err := p.Service.QuotaRequestDraft(rita, "eastus", "standardDSv2Family", 4); instancehub.ErrorCode(err) != instancehub.EFORBIDDEN {
		t.Fatalf("a Reader opens the form: %v, want EFORBIDDEN", err)
	}
	for field, r := range map[string]*instancehub.QuotaRequest{
		"reason": ask(4, "  "),
		"vcpus":  ask(0, "training"),
		"family": {Region: "eastus", Family: "noSuchFamily", VCPUs: 4, Reason: "training"},
		"region": {Region: "mars", Family: "standardDSv2Family", VCPUs: 4, Reason: "training"},
	} {
		if err := p.Service.RequestQuota(dana, r); instancehub.ErrorFields(err)[field] == "" {
			t.Errorf("bad %s: %v, want an error on the field", field, err)
		}
	}
	if err := p.Service.RequestQuota(dana, ask(4, strings.Repeat("x", instancehub.MaxQuotaRequestReasonLength+1))); instancehub.ErrorFields(err)["reason"] == "" {
		t.Errorf("a reason over its bound: %v", err)
	}
	if open, _ := p.Service.OpenQuotaRequests(owner); len(open) != 0 {
		t.Fatalf("refused requests were kept: %+v", open)
	}

	first := ask(4, "Training a bigger model this week.")
	if err := p.Service.RequestQuota(dana, first); err != nil {
		t.Fatal(err)
	}
	if err := p.Service.RequestQuota(dana, ask(2, "more")); instancehub.ErrorCode(err) != instancehub.ECONFLICT {
		t.Fatalf("a second open request for the family: %v, want ECONFLICT", err)
	}
	if _, err := p.Service.GrantQuotaRequest(dana, first.ID); instancehub.ErrorCode(err) != instancehub.EFORBIDDEN {
		t.Fatalf("the requester grants: %v, want EFORBIDDEN", err)
	}
	if _, err := p.Service.DeclineQuotaRequest(rita, first.ID, "no"); instancehub.ErrorCode(err) != instancehub.EFORBIDDEN {
		t.Fatalf("a Reader declines: %v, want EFORBIDDEN", err)
	}
	if _, err := p.Service.OpenQuotaRequests(dana); instancehub.ErrorCode(err) != instancehub.EFORBIDDEN {
		t.Fatalf("the requester lists requests: %v, want EFORBIDDEN", err)
	}
	page, err := p.Service.Quota(owner, "eastus")
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Requests) != 1 || page.Requests[0].UserName != "Dana Scientist" || page.Requests[0].Reason != first.Reason {
		t.Fatalf("the Owner's quota page lists %+v", page.Requests)
	}
	if page, _ := p.Service.Quota(dana, "eastus"); page.Requests != nil {
		t.Fatalf("the requester's quota page lists %+v", page.Requests)
	}

	if _, err := p.Service.GrantQuotaRequest(owner, first.ID); err != nil {
		t.Fatal(err)
	}
	if page, _ := p.Service.Quota(owner, "eastus"); rowOf(page, "standardDSv2Family").WorkspaceLimit != 8 || len(page.Requests) != 0 {
		t.Fatalf("after the grant: limit %d, %d open", rowOf(page, "standardDSv2Family").WorkspaceLimit, len(page.Requests))
	}
	if opts, _ := p.Service.CreateOptions(dana, "eastus"); !fits(opts, "Standard_DS4_v2") {
		t.Fatal("DS4_v2 still does not fit after the grant")
	}
	_, err = p.Service.GrantQuotaRequest(owner, first.ID)
	if instancehub.ErrorCode(err) != instancehub.ECONFLICT || !strings.HasPrefix(instancehub.ErrorMessage(err), "Ada Lovelace granted this request already") {
		t.Fatalf("a second grant: %v", err)
	}
	if _, err := p.Service.DeclineQuotaRequest(owner, first.ID, "too late"); instancehub.ErrorCode(err) != instancehub.ECONFLICT {
		t.Fatalf("a decline after the grant: %v", err)
	}

	// Azure's limit bounds a grant: refused with the reason, still open.
	big := ask(40, "A sweep over every size.")
	if err := p.Service.RequestQuota(dana, big); err != nil {
		t.Fatal(err)
	}
	_, err = p.Service.GrantQuotaRequest(owner, big.ID)
	if got := instancehub.ErrorFields(err)["limit"]; got != "The workspace's limit cannot exceed the subscription's: at most 40 vCPUs for Standard DSv2 Family vCPUs in eastus." {
		t.Fatalf("a grant above Azure's limit: %v", err)
	}
	if open, _ := p.Service.OpenQuotaRequests(owner); len(open) != 1 || open[0].ID != big.ID {
		t.Fatalf("a refused grant closed the request: %+v", open)
	}
	if _, err := p.Service.DeclineQuotaRequest(owner, big.ID, " "); instancehub.ErrorFields(err)["answer"] == "" {
		t.Fatalf("a decline without a reason: %v", err)
	}
	if _, err := p.Service.DeclineQuotaRequest(owner, big.ID, "Azure's limit is 40; ask IT for a support ticket."); err != nil {
		t.Fatal(err)
	}

	answers, err := p.Service.TakeQuotaAnswers(dana)
	if err != nil {
		t.Fatal(err)
	}
	if len(answers) != 2 || answers[0].AnswerMessage() != "Ada Lovelace granted your request for 4 vCPUs more of Standard DSv2 Family in eastus: the workspace's limit is raised." ||
		answers[1].AnswerMessage() != "Ada Lovelace declined your request for 40 vCPUs more of Standard DSv2 Family in eastus: Azure's limit is 40; ask IT for a support ticket." {
		t.Fatalf("answers %+v", answers)
	}
	if again, _ := p.Service.TakeQuotaAnswers(dana); len(again) != 0 {
		t.Fatalf("told twice: %+v", again)
	}

	// One event each: two requests, one grant, one decline succeeded; the
	// grant wrote no second event as a limit's change.
	for action, want := range map[string]int{"quota.request": 2, "quota.request.grant": 1, "quota.request.decline": 1} {
		events, _, err := p.DB.FindAuditEvents(owner, instancehub.AuditFilter{Action: action, Result: instancehub.AuditSucceeded})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range events {
			if e.Action == action {
				n++
			}
		}
		if n != want {
			t.Errorf("%s: %d events succeeded, want %d", action, n, want)
		}
	}
	if events, _, _ := p.DB.FindAuditEvents(owner, instancehub.AuditFilter{Action: "quota.update"}); len(events) != 1 {
		t.Errorf("quota.update events %d, want the Owner's one", len(events))
	}
	denied, _, _ := p.DB.FindAuditEvents(owner, instancehub.AuditFilter{Action: "quota.request", Result: instancehub.AuditDenied})
	if len(denied) == 0 {
		t.Error("the Reader's refused request is not in the audit log")
	}
}

func rowOf(page *instancehub.QuotaPage, family string) instancehub.QuotaRow {
	for _, r := range page.Rows {
		if r.Name == family {
			return r
		}
	}
	return instancehub.QuotaRow{}
}

func fits(opts *instancehub.CreateOptions, size string) bool {
	for _, o := range opts.Sizes {
		if o.Name == size {
			return o.Fits
		}
	}
	return false
}
