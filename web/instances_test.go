package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/internal/testportal"
)

func TestEmptyList(t *testing.T) {
	s := newSite(t, 0)
	s.signIn(t, "ada@example.com")
	r := s.get(t, "/instances")
	wantStatus(t, r, http.StatusOK)
	empty := r.doc.Find(`[data-testid="empty-state"]`)
	create := empty.Find(`[role="button"]`)
	if empty.Length() != 1 || text(create) != "Create" {
		t.Fatalf("empty state = %q", text(empty))
	}
	if href, _ := create.Attr("href"); href != "/instances/new" {
		t.Errorf("Create goes to %q", href)
	}
	if text(r.doc.Find(`[data-testid="new-instance"]`)) != "New" {
		t.Error("no New button")
	}
}

func TestCreateThroughTheForm(t *testing.T) {
	s := newSite(t, 0)
	s.signIn(t, "ada@example.com")
	form := s.get(t, "/instances/new")
	wantStatus(t, form, http.StatusOK)
	if v, _ := form.doc.Find(`input[name="vm_size"][checked]`).Attr("value"); v != instancehub.DefaultVMSize {
		t.Errorf("default size = %q", v)
	}
	if n := form.doc.Find(`#region option`).Length(); n != 3 {
		t.Errorf("%d regions, want 3", n)
	}
	gpu := form.doc.Find(`[data-testid="size-row"][data-kind="GPU"]`)
	if gpu.Length() < 2 {
		t.Errorf("%d GPU sizes, want several", gpu.Length())
	}
	noQuota := form.doc.Find(`[data-size="Standard_NC24ads_A100_v4"]`)
	if _, disabled := noQuota.Find("input").Attr("disabled"); !disabled || !strings.Contains(text(noQuota), "No quota") {
		t.Errorf("a size without quota: %q, disabled %v", text(noQuota), disabled)
	}

	r := s.create(t, "ada-ws", url.Values{
		"ssh_enabled": {"on"}, "ssh_public_key": {testportal.SSHKey},
		"virtual_network": {"vnet-eastus"}, "subnet": {"workstations"},
	})
	wantStatus(t, r, http.StatusSeeOther)
	list := s.get(t, "/instances")
	row := list.doc.Find(`tr[data-name="ada-ws"]`)
	if row.Length() != 1 {
		t.Fatalf("no row for ada-ws in %s", truncate(list.body))
	}
	if toast := text(list.doc.Find(`[data-testid="toast"]`)); !strings.Contains(toast, "Creating ada-ws") {
		t.Errorf("toast = %q", toast)
	}
	if by := text(row.Find("td").Eq(3)); by != "Ada Lovelace" {
		t.Errorf("created by = %q", by)
	}
	s.waitRunning(t, "ada-ws")

	row = s.get(t, "/instances").doc.Find(`tr[data-name="ada-ws"]`)
	if state := text(row.Find(`[data-testid="state"]`)); state != "Running" {
		t.Errorf("state = %q", state)
	}
	if trigger, polls := row.Attr("hx-trigger"); polls {
		t.Errorf("a settled row fetches itself on %q", trigger)
	}
	if _, busy := row.Attr("data-busy"); busy {
		t.Error("a settled row is marked busy: it would fetch itself on the stream's opening")
	}
	if apps := strings.Join(texts(row.Find(".apps a")), ","); apps != "JupyterLab,Jupyter,RStudio,Terminal" {
		t.Errorf("applications = %q", apps)
	}
	if href, _ := row.Find(".apps a").First().Attr("href"); href != "/instances/ada-ws/apps/jupyterlab/" {
		t.Errorf("JupyterLab link = %q", href)
	}
	wantEnabled(t, row, map[string]bool{"Start": false, "Stop": true, "Restart": true, "Delete": true})

	detail := s.get(t, "/instances/ada-ws")
	wantStatus(t, detail, http.StatusOK)
	ip := text(detail.doc.Find(`[data-testid="public-ip"]`))
	if cmd := text(detail.doc.Find(`[data-testid="ssh-command"]`)); ip == "" || cmd != "ssh -p 22 azureuser@"+ip {
		t.Errorf("ssh command = %q (public IP %q)", cmd, ip)
	}
	if img := text(detail.doc.Find(`[data-testid="image"]`)); img != "microsoft-dsvm:ubuntu-2204:2204-gen2:25.04.22" {
		t.Errorf("image = %q", img)
	}
	if priv := text(detail.doc.Find(`[data-testid="private-ip"]`)); !strings.HasPrefix(priv, "10.1.1.") {
		t.Errorf("private IP = %q, want one of the workstations subnet", priv)
	}
	if last := text(detail.doc.Find(`[data-testid="last-operation"]`)); !strings.Contains(last, "Create") || !strings.Contains(last, "Succeeded") || !strings.Contains(last, "User") {
		t.Errorf("last operation = %q", last)
	}
}

func wantEnabled(t *testing.T, scope *goquery.Selection, want map[string]bool) {
	t.Helper()
	for label, enabled := range want {
		b := scope.Find("button").FilterFunction(func(_ int, b *goquery.Selection) bool { return strings.TrimSpace(b.Text()) == label })
		if b.Length() != 1 {
			t.Errorf("%s: %d buttons", label, b.Length())
			continue
		}
		// An action the state does not allow stays reachable by keyboard,
		// marked aria-disabled and described by its reason.
		if _, disabled := b.Attr("disabled"); disabled {
			t.Errorf("%s is disabled, which takes it out of the Tab order", label)
		}
		off := b.AttrOr("aria-disabled", "") == "true"
		if off == enabled {
			t.Errorf("%s enabled = %v, want %v", label, !off, enabled)
		}
		if why := b.AttrOr("aria-describedby", ""); off != strings.HasPrefix(why, "why-"+strings.ToLower(label)+"-") {
			t.Errorf("%s (enabled %v) is described by %q", label, !off, why)
		}
	}
}

func TestCreateFormErrors(t *testing.T) {
	s := newSite(t, 0)
	s.signIn(t, "ada@example.com")
	r := s.create(t, "bad_name", url.Values{"ssh_enabled": {"on"}, "ssh_public_key": {"ssh-rsa AAAA"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if msg := text(r.doc.Find(`[data-testid="name-message"]`)); !strings.Contains(msg, "'_' is not allowed") {
		t.Errorf("name message = %q", msg)
	}
	if msg := text(r.doc.Find(`#ssh_public_key-error`)); !strings.Contains(msg, "not a valid OpenSSH public key") {
		t.Errorf("key message = %q", msg)
	}
	if v, _ := r.doc.Find("#name").Attr("value"); v != "bad_name" {
		t.Errorf("name kept = %q", v)
	}
	if v := text(r.doc.Find("#ssh_public_key")); v != "ssh-rsa AAAA" {
		t.Errorf("key kept = %q", v)
	}
	if _, checked := r.doc.Find("#ssh_enabled").Attr("checked"); !checked {
		t.Error("SSH checkbox not kept")
	}
	if inv, _ := r.doc.Find("#name").Attr("aria-invalid"); inv != "true" {
		t.Error("name not marked invalid")
	}
	page, _ := s.Service.ListInstances(s.Ctx, instancehub.ListQuery{})
	if page.Total != 0 {
		t.Errorf("a rejected form made %d instances", page.Total)
	}
}

func TestLiveNameCheck(t *testing.T) {
	s := newSite(t, 0)
	s.signIn(t, "ada@example.com")
	s.Seed(t, "taken", 1, s.User)
	tests := []struct{ name, want string }{
		{"fresh-name", "This name is available."},
		{"ab", "at least 3 characters"},
		{"TAKEN0001", "An instance named taken0001 already exists"},
		{"box-42", `cannot end in "-42"`},
	}
	for _, tt := range tests {
		r := s.get(t, "/instances/new/check-name?name="+url.QueryEscape(tt.name), "HX-Request", "true")
		wantStatus(t, r, http.StatusOK)
		if msg := text(r.doc.Find(`[data-testid="name-message"]`)); !strings.Contains(msg, tt.want) {
			t.Errorf("%s: %q, want %q", tt.name, msg, tt.want)
		}
	}
}

func TestRegionChangeSwapsSizesAndNetworks(t *testing.T) {
	s := newSite(t, 0)
	s.signIn(t, "ada@example.com")
	r := s.get(t, "/instances/new/placement?region=westeurope&vm_size=Standard_D4s_v3&type=CPU", "HX-Request", "true")
	wantStatus(t, r, http.StatusOK)
	if v, _ := r.doc.Find(`input[name="vm_size"][checked]`).Attr("value"); v != "Standard_D4s_v3" {
		t.Errorf("kept size = %q", v)
	}
	net := r.doc.Find(`#network-section[hx-swap-oob]`)
	if !strings.Contains(text(net), "vnet-westeurope") {
		t.Errorf("network section = %q", text(net))
	}
	sub := s.get(t, "/instances/new/subnets?region=westeurope&virtual_network=vnet-westeurope", "HX-Request", "true")
	if n := sub.doc.Find("#subnet option").Length(); n != 2 {
		t.Errorf("%d subnets, want 2", n)
	}
}

func TestActionsSwapTheRow(t *testing.T) {
	s := newSite(t, 0.05)
	s.signIn(t, "ada@example.com")
	wantStatus(t, s.create(t, "row-box", nil), http.StatusSeeOther)
	running := s.waitRunning(t, "row-box")

	r := s.post(t, "/instances/row-box/stop", url.Values{"from": {"row"}}, "HX-Request", "true", "HX-Target", "row-row-box")
	wantStatus(t, r, http.StatusOK)
	row := r.doc.Find(`tr[data-name="row-box"]`)
	if state := text(row.Find(`[data-testid="state"]`)); state != "Stopping" {
		t.Errorf("state = %q", state)
	}
	// It listens for its instance's changes, and, in transition, for the
	// stream's first opening too (app.js); it polls no more.
	if id, _ := row.Attr("data-id"); id != fmt.Sprint(running.ID) {
		t.Errorf("the row says it shows instance %q, not %d", id, running.ID)
	}
	if _, busy := row.Attr("data-busy"); !busy {
		t.Error("a row in transition is not marked busy")
	}
	if trigger, polls := row.Attr("hx-trigger"); polls {
		t.Errorf("a row in transition fetches itself on %q", trigger)
	}
	wantEnabled(t, row, map[string]bool{"Start": false, "Stop": false, "Restart": false, "Delete": false})
	if toast := text(r.doc.Find(`[hx-swap-oob] [data-testid="toast"]`)); !strings.Contains(toast, "Stopping row-box") {
		t.Errorf("toast = %q", toast)
	}

	// Start while stopping is refused, as a toast, not a page.
	r = s.post(t, "/instances/row-box/start", url.Values{"from": {"row"}}, "HX-Request", "true")
	wantStatus(t, r, http.StatusConflict)
	// The notice is the answer, whatever part of a page the control selects.
	if r.Header.Get("HX-Retarget") != "#toasts" || r.Header.Get("HX-Reselect") != "unset" {
		t.Errorf("HX-Retarget = %q, HX-Reselect = %q", r.Header.Get("HX-Retarget"), r.Header.Get("HX-Reselect"))
	}
	if toast := text(r.doc.Find(`.toast-danger`)); !strings.Contains(toast, "wait until it finishes") {
		t.Errorf("refusal = %q", toast)
	}

	s.WaitState(t, "row-box", instancehub.StateStopped)
	row = s.get(t, "/instances/row-box/row", "HX-Request", "true").doc.Find("tr")
	if state := text(row.Find(`[data-testid="state"]`)); state != "Stopped" {
		t.Errorf("polled state = %q", state)
	}
	wantEnabled(t, row, map[string]bool{"Start": true, "Stop": false, "Restart": false, "Delete": true})

	// Without htmx, the form redirects back with a notice.
	r = s.post(t, "/instances/row-box/start", url.Values{"from": {"detail"}})
	wantStatus(t, r, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); loc != "/instances/row-box" {
		t.Errorf("Location = %q", loc)
	}
	s.waitRunning(t, "row-box")

	// Delete asks first on a page of its own without script, then removes.
	confirm := s.get(t, "/instances/row-box/delete")
	wantStatus(t, confirm, http.StatusOK)
	if !strings.Contains(text(confirm.doc.Find("h1")), "Delete row-box?") {
		t.Errorf("confirm page = %q", text(confirm.doc.Find("h1")))
	}
	wantStatus(t, s.post(t, "/instances/row-box/delete", nil), http.StatusSeeOther)
	s.WaitGone(t, "row-box")
	gone := s.get(t, "/instances/row-box/row", "HX-Request", "true")
	if strings.TrimSpace(gone.body) != "" {
		t.Errorf("a deleted row should swap to nothing, got %q", gone.body)
	}
	if reswap := gone.Header.Get("HX-Reswap"); reswap != "delete" {
		t.Errorf("a deleted row is answered with HX-Reswap %q: a row that swaps its cells would stay, empty", reswap)
	}
	wantStatus(t, s.get(t, "/instances/row-box"), http.StatusNotFound)
	// The details page, polling, is sent back to the list once.
	r = s.get(t, "/instances/row-box", "HX-Request", "true", "HX-Target", "detail")
	wantStatus(t, r, http.StatusOK)
	if r.Header.Get("HX-Redirect") != "/instances" {
		t.Errorf("polling a deleted instance: HX-Redirect %q", r.Header.Get("HX-Redirect"))
	}
}

func TestListPagingSearchAndFilter(t *testing.T) {
	s := newSite(t, 0)
	s.signIn(t, "ada@example.com")
	bob := s.EnsureUser(t, "bob@example.com", "Bob", instancehub.RoleDataScientist)
	s.Seed(t, "ada", 55, s.User)
	s.Seed(t, "bob", 5, bob)

	r := s.get(t, "/instances")
	if n := r.doc.Find(`tr[data-name]`).Length(); n != 50 {
		t.Errorf("page 1 has %d rows, want 50", n)
	}
	if pager := text(r.doc.Find(`[data-testid="pager"]`)); !strings.Contains(pager, "Showing 1–50 of 60 instances") || !strings.Contains(pager, "Page 1 of 2") {
		t.Errorf("pager = %q", pager)
	}
	if first := r.doc.Find(`tr[data-name]`).First().AttrOr("data-name", ""); first != "ada0055" {
		t.Errorf("newest first: %q", first)
	}
	r = s.get(t, "/instances?page=2")
	if n := r.doc.Find(`tr[data-name]`).Length(); n != 10 {
		t.Errorf("page 2 has %d rows, want 10", n)
	}
	r = s.get(t, "/instances?sort=name")
	if first := r.doc.Find(`tr[data-name]`).First().AttrOr("data-name", ""); first != "ada0001" {
		t.Errorf("by name: %q", first)
	}
	if sort, _ := r.doc.Find(`th[aria-sort="ascending"]`).Attr("aria-sort"); sort != "ascending" {
		t.Error("the name column is not marked ascending")
	}
	r = s.get(t, "/instances?q=BOB", "HX-Request", "true", "HX-Target", "instance-list")
	if r.doc.Find("html").Length() != 0 && r.doc.Find(".topbar").Length() != 0 {
		t.Error("the htmx list request returned a whole page")
	}
	if n := r.doc.Find(`tr[data-name]`).Length(); n != 5 {
		t.Errorf("search bob: %d rows, want 5", n)
	}
	r = s.get(t, "/instances?mine=1&q=bob")
	if r.doc.Find(`[data-testid="no-matches"]`).Length() != 1 {
		t.Error("only mine + bob should match nothing")
	}
	r = s.get(t, "/instances?mine=1")
	if pager := text(r.doc.Find(`[data-testid="pager"]`)); !strings.Contains(pager, "of 55 instances") {
		t.Errorf("only mine: %q", pager)
	}
	// Bob's rows show no application links to Ada.
	r = s.get(t, "/instances?q=bob0001")
	if n := r.doc.Find(`tr[data-name="bob0001"] .apps`).Length(); n != 0 {
		t.Error("another user's instance shows application links")
	}
}

func TestApplicationRoutes(t *testing.T) {
	s := newSite(t, 0)
	s.signIn(t, "ada@example.com")
	bob := s.EnsureUser(t, "bob@example.com", "Bob", instancehub.RoleDataScientist)
	s.Seed(t, "ada", 1, s.User)
	s.Seed(t, "bob", 1, bob)
	r := s.get(t, "/instances/ada0001/apps/jupyterlab/")
	wantStatus(t, r, http.StatusOK)
	if !strings.Contains(text(r.doc.Find("h1")), "JupyterLab is not available yet") {
		t.Errorf("owner page = %q", text(r.doc.Find("h1")))
	}
	r = s.get(t, "/instances/bob0001/apps/rstudio/")
	wantStatus(t, r, http.StatusForbidden)
	if !strings.Contains(text(r.doc.Find(`[data-testid="error-page"]`)), "Only the owner of bob0001, Bob, may open its applications.") {
		t.Errorf("refusal = %q", text(r.doc.Find(`[data-testid="error-page"]`)))
	}
	wantStatus(t, s.get(t, "/instances/ada0001/apps/emacs/"), http.StatusNotFound)
}

func TestRefresh(t *testing.T) {
	s := newSite(t, 0)
	s.signIn(t, "ada@example.com")
	wantStatus(t, s.create(t, "refresh-me", nil), http.StatusSeeOther)
	s.waitRunning(t, "refresh-me")
	r := s.post(t, "/instances/refresh", nil, "HX-Request", "true", "HX-Target", "instance-list")
	wantStatus(t, r, http.StatusOK)
	if toast := text(r.doc.Find(`[data-testid="toast"]`)); !strings.Contains(toast, "Refreshed") {
		t.Errorf("toast = %q", toast)
	}
	if r.doc.Find(`tr[data-name="refresh-me"]`).Length() != 1 {
		t.Error("refresh did not return the list")
	}
}

func TestCreateOnBehalfThroughTheForm(t *testing.T) {
	s := newSite(t, 0)
	dana := s.EnsureUser(t, "dana@example.com", "Dana Scientist", instancehub.RoleDataScientist)
	s.signIn(t, "ada@example.com")
	form := s.get(t, "/instances/new")
	options := texts(form.doc.Find("#assign_to option"))
	if len(options) != 2 || options[1] != "Dana Scientist (dana@example.com)" {
		t.Fatalf("assignees = %v", options)
	}
	wantStatus(t, s.create(t, "for-dana", url.Values{"assign_to": {"dana@example.com"}}), http.StatusSeeOther)
	inst, err := s.DB.FindInstanceByName(s.Ctx, "for-dana")
	if err != nil || inst.OwnerID != dana.ID || inst.CreatedByID != s.User.ID {
		t.Fatalf("instance = %+v, %v", inst, err)
	}
	// The creator sees no application links on it; Dana does.
	row := s.get(t, "/instances").doc.Find(`tr[data-name="for-dana"]`)
	if row.Find(".apps").Length() != 0 {
		t.Error("the creator sees the owner's application links")
	}
	// The Owner column says for whom it was made, beside who made it.
	cells := row.Find("td")
	if got := text(cells.Eq(4).Find(`[data-testid="owner"]`)); got != "Dana Scientist" || text(cells.Eq(3)) != "Ada Lovelace" {
		t.Errorf("the row's creator and owner read %q and %q", text(cells.Eq(3)), got)
	}
	s.client = newClient()
	s.signIn(t, "dana@example.com")
	if s.get(t, "/instances/new").doc.Find("#assign_to").Length() != 0 {
		t.Error("a Data Scientist is offered to assign instances to others")
	}
	mine := s.get(t, "/instances?mine=1").doc.Find(`tr[data-name="for-dana"]`)
	if mine.Find(".apps").Length() != 1 {
		t.Error("Dana does not see her instance under Only mine with its applications")
	}
}

// TestStoppedBillingShown: the details page and the Stop notice say what an
// instance keeps costing while stopped.
func TestStoppedBillingShown(t *testing.T) {
	s := newSite(t, 0)
	s.signIn(t, "ada@example.com")
	s.SeedNamed(t, "billing-box", s.User)
	page := s.get(t, "/instances/billing-box")
	wantStatus(t, page, http.StatusOK)
	if got := text(page.doc.Find(`[data-testid="stopped-billing"]`)); !strings.Contains(got, "bills no compute") || !strings.Contains(got, "OS disk") {
		t.Errorf("details page: %q", got)
	}
	r := s.post(t, "/instances/billing-box/stop", nil, "HX-Request", "true")
	wantStatus(t, r, http.StatusOK)
	if got := text(r.doc.Find(".toast")); !strings.Contains(got, "Stopping billing-box. While stopped") {
		t.Errorf("stop notice: %q", got)
	}
}
