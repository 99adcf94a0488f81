package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v8"
	"github.com/instancehub/instancehub"
)

// TestBootLogForOwners: an Owner finds "Boot log" on any instance's page and
// reads there what its VM printed while it booted (the emulator's console,
// as text), each read audited; the instance's own owner, a Data Scientist,
// sees no link and is refused the page, the refusal audited too.
func TestBootLogForOwners(t *testing.T) {
	s := newSite(t, 0)
	s.EnsureUser(t, "dana@example.com", "Dana Data", instancehub.RoleDataScientist)
	s.signIn(t, "dana@example.com")
	wantStatus(t, s.create(t, "dana-box", nil), http.StatusSeeOther)
	s.waitRunning(t, "dana-box")
	page := s.get(t, "/instances/dana-box")
	if page.doc.Find(`[data-testid="boot-log-link"]`).Length() != 0 {
		t.Error("a Data Scientist is offered the boot log")
	}
	wantStatus(t, s.get(t, "/instances/dana-box/boot-log"), http.StatusForbidden)

	s.client = newClient()
	s.signIn(t, "ada@example.com")
	page = s.get(t, "/instances/dana-box")
	link := page.doc.Find(`[data-testid="boot-log-link"]`)
	if href, _ := link.Attr("href"); href != "/instances/dana-box/boot-log" || text(link) != "Boot log" {
		t.Fatalf("the Owner's link: %q to %q", text(link), href)
	}
	r := s.get(t, "/instances/dana-box/boot-log")
	wantStatus(t, r, http.StatusOK)
	log := r.doc.Find(`pre[data-testid="boot-log"]`)
	if label, _ := log.Attr("aria-label"); label != "Boot log of dana-box" || !strings.Contains(log.Text(), "dana-box login:") ||
		!strings.Contains(log.Text(), "[  OK  ] Started docker.service") || strings.ContainsAny(log.Text(), "\x1b\r") {
		t.Errorf("the boot log (%q):\n%s", label, log.Text())
	}
	if r.doc.Find(`[data-testid="boot-log-unavailable"]`).Length() != 0 || text(r.doc.Find("h1")) != "Boot log of dana-box" {
		t.Errorf("page: %q, unavailable %q", text(r.doc.Find("h1")), text(r.doc.Find(`[data-testid="boot-log-unavailable"]`)))
	}
	read, err := s.Service.AuditEvents(s.Ctx, instancehub.AuditFilter{Action: "instance.boot-log"}, 1)
	if err != nil {
		t.Fatal(err)
	}
	results := map[string]int{}
	for _, e := range read.Events {
		if e.Target == "dana-box" {
			results[e.Result] += e.Count
		}
	}
	if results[instancehub.AuditSucceeded] != 1 || results[instancehub.AuditDenied] != 1 {
		t.Errorf("audited reads of dana-box's boot log: %v, want one read and one refusal", results)
	}

	// Its VM gone from Azure behind the portal's back: the page says so,
	// and the audit log has the read failed, with that reason.
	vms, err := armcompute.NewVirtualMachinesClient(s.Emu.SubscriptionID(), s.Emu.Credential(), s.Emu.ClientOptions())
	if err != nil {
		t.Fatal(err)
	}
	poller, err := vms.BeginDelete(s.Ctx, s.Emu.ResourceGroup(), "dana-box", nil)
	if err == nil {
		_, err = poller.PollUntilDone(s.Ctx, &runtime.PollUntilDoneOptions{Frequency: time.Millisecond})
	}
	if err != nil {
		t.Fatal(err)
	}
	r = s.get(t, "/instances/dana-box/boot-log")
	wantStatus(t, r, http.StatusOK)
	if msg := text(r.doc.Find(`[data-testid="boot-log-unavailable"]`)); msg != "dana-box has no virtual machine in Azure: it was never made, or it is gone." ||
		r.doc.Find(`[data-testid="boot-log"]`).Length() != 0 {
		t.Errorf("without its VM: %q", msg)
	}
	failed, err := s.Service.AuditEvents(s.Ctx, instancehub.AuditFilter{Action: "instance.boot-log", Result: instancehub.AuditFailed}, 1)
	if err != nil || len(failed.Events) != 1 || !strings.Contains(failed.Events[0].Reason, "no virtual machine") {
		t.Errorf("the failed read audited: %+v %v", failed, err)
	}
	wantStatus(t, s.get(t, "/instances/no-such-box/boot-log"), http.StatusNotFound)
}
