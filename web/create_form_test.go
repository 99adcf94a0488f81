package web_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/internal/testportal"
)

const (
	teamIdentity  = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/team-rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/team-data"
	otherIdentity = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/team-rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/admin-all"
)

// TestCreateFormSetsTagsDescriptionAndIdentity: the form offers no
// identity, the system-assigned one and the user-assigned ones the operator
// listed, one blank tag row and a description; what is entered reaches the
// instance, as the az ml file's does.
func TestCreateFormSetsTagsDescriptionAndIdentity(t *testing.T) {
	s := newSite(t, 0)
	s.Service.UserAssignedIdentities = []string{teamIdentity}
	s.signIn(t, "ada@example.com")
	form := s.get(t, "/instances/new")
	wantStatus(t, form, http.StatusOK)
	var offered []string
	form.doc.Find(`input[name="identity"]`).Each(func(_ int, in *goquery.Selection) {
		id, _ := in.Attr("id")
		v, _ := in.Attr("value")
		offered = append(offered, text(form.doc.Find(`label[for="`+id+`"]`))+"="+v)
	})
	if got, want := strings.Join(offered, " | "), "None=none | System-assigned=system | User-assigned: team-data="+teamIdentity; got != want {
		t.Errorf("identities offered:\n%s\nwant\n%s", got, want)
	}
	if _, checked := form.doc.Find("#identity-none").Attr("checked"); !checked {
		t.Error("no identity is not the default")
	}
	if text(form.doc.Find(`label[for="tag-0-name"]`)) != "Tag 1 name" || text(form.doc.Find(`label[for="tag-0-value"]`)) != "Tag 1 value" {
		t.Errorf("tag row labels: %q", text(form.doc.Find(`[data-testid="tag-row"]`)))
	}
	if text(form.doc.Find(`label[for="description"]`)) != "Description" {
		t.Error("no Description field")
	}

	r := s.create(t, "tagged", url.Values{"description": {"  Vision experiments  "}, "identity": {teamIdentity},
		"tag_count": {"3"}, "tag-0-name": {"team"}, "tag-0-value": {"vision"}, "tag-1-name": {""}, "tag-1-value": {""},
		"tag-2-name": {"cost-centre"}, "tag-2-value": {"42"}})
	wantStatus(t, r, http.StatusSeeOther)
	inst, err := s.DB.FindInstanceByName(s.Ctx, "tagged")
	if err != nil {
		t.Fatal(err)
	}
	if inst.Description != "Vision experiments" {
		t.Errorf("description = %q", inst.Description)
	}
	if len(inst.Tags) != 2 || inst.Tags["team"] != "vision" || inst.Tags["cost-centre"] != "42" {
		t.Errorf("tags = %v", inst.Tags)
	}
	if inst.Identity.SystemAssigned || len(inst.Identity.UserAssigned) != 1 || inst.Identity.UserAssigned[0] != teamIdentity {
		t.Errorf("identity = %+v", inst.Identity)
	}
	detail := s.get(t, "/instances/tagged")
	if got := strings.Join(texts(detail.doc.Find(`[data-testid="tags"] .tag`)), ", "); got != "cost-centre: 42, team: vision" {
		t.Errorf("details' tags = %q", got)
	}
	if got := text(detail.doc.Find(`[data-testid="identity"]`)); got != "team-data user-assigned" {
		t.Errorf("details' identity = %q", got)
	}

	wantStatus(t, s.create(t, "own-identity", url.Values{"identity": {"system"}}), http.StatusSeeOther)
	if inst, _ := s.DB.FindInstanceByName(s.Ctx, "own-identity"); inst == nil || !inst.Identity.SystemAssigned || len(inst.Identity.UserAssigned) != 0 {
		t.Errorf("system-assigned identity: %+v", inst)
	}
}

// TestCreateFormRefusesBadTagsAndUnlistedIdentities: the form's tags and
// identity meet the rules the az ml file meets, with the message by the
// field, everything typed kept, and nothing made.
func TestCreateFormRefusesBadTagsAndUnlistedIdentities(t *testing.T) {
	s := newSite(t, 0)
	s.Service.UserAssignedIdentities = []string{teamIdentity}
	s.signIn(t, "ada@example.com")
	tag := func(name, value string) url.Values {
		return url.Values{"tag_count": {"1"}, "tag-0-name": {name}, "tag-0-value": {value}}
	}
	tests := []struct {
		name  string
		form  url.Values
		field string
		want  string
	}{
		{"name too long", tag(strings.Repeat("n", instancehub.MaxTagNameLength+1), "v"), "tags", "too long: at most 128 bytes"},
		{"value too long", tag("team", strings.Repeat("v", instancehub.MaxTagValueLength+1)), "tags", "too long: at most 256 bytes"},
		{"value without a name", tag(" ", "orphan"), "tags", "A tag needs a name."},
		{"the portal's own", tag("instancehub-owner", "me"), "tags", "kept for the portal's own tags"},
		{"a character Azure refuses", tag("a/b", "v"), "tags", "a character Azure refuses"},
		{"a name twice", url.Values{"tag_count": {"2"}, "tag-0-name": {"team"}, "tag-0-value": {"a"}, "tag-1-name": {"team"}, "tag-1-value": {"b"}}, "tags", "given twice"},
		{"a name twice, in two cases", url.Values{"tag_count": {"2"}, "tag-0-name": {"team"}, "tag-0-value": {"a"}, "tag-1-name": {"Team"}, "tag-1-value": {"b"}}, "tags", "Azure ignores the case of tag names"},
		{"a description too long", url.Values{"description": {strings.Repeat("d", instancehub.MaxDescriptionLength+1)}}, "description", "A description"},
		{"an identity not listed", url.Values{"identity": {otherIdentity}}, "identity", "is not one of the user-assigned identities this portal may give"},
		{"not an identity", url.Values{"identity": {"someone-else"}}, "identity", "is not the resource ID of a user-assigned identity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, path := range []string{"/instances", "/instances/review"} {
				form := url.Values{"name": {"refused"}, "region": {"eastus"}, "vm_size": {"Standard_DS3_v2"}}
				for k, v := range tt.form {
					form[k] = v
				}
				r := s.post(t, path, form)
				wantStatus(t, r, http.StatusUnprocessableEntity)
				if msg := text(r.doc.Find("#" + tt.field + "-error")); !strings.Contains(msg, tt.want) {
					t.Errorf("%s: %s message = %q, want %q", path, tt.field, msg, tt.want)
				}
				if v, _ := r.doc.Find("#name").Attr("value"); v != "refused" {
					t.Errorf("%s: name kept = %q", path, v)
				}
				if v, ok := tt.form["tag-0-name"]; ok {
					if got, _ := r.doc.Find("#tag-0-name").Attr("value"); got != v[0] {
						t.Errorf("%s: tag kept = %q", path, got)
					}
					if inv, _ := r.doc.Find("#tag-0-name").Attr("aria-invalid"); inv != "true" {
						t.Errorf("%s: tag not marked invalid", path)
					}
				}
				if v, ok := tt.form["identity"]; ok && v[0] == teamIdentity {
					if _, checked := r.doc.Find("#identity-user-0").Attr("checked"); !checked {
						t.Errorf("%s: identity not kept", path)
					}
				}
			}
		})
	}
	page, err := s.Service.ListInstances(s.Ctx, instancehub.ListQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if page.Total != 0 {
		t.Errorf("refused forms made %d instances", page.Total)
	}
}

// TestAddScheduleAndTagFragments: with htmx, "Add schedule" and "Add tag"
// fetch one blank row after those the form has, with the count and button
// anew out of band, and no more than the bounds; for a Reader, nothing.
func TestAddScheduleAndTagFragments(t *testing.T) {
	s := newSite(t, 0)
	s.signIn(t, "ada@example.com")
	r := s.get(t, "/instances/new/schedule?schedule_count=1", "HX-Request", "true")
	wantStatus(t, r, http.StatusOK)
	row := r.doc.Find(`fieldset[data-testid="schedule-fields"]`)
	if row.Length() != 1 || text(row.Find("legend").First()) != "Schedule 2" {
		t.Fatalf("schedule row: %s", truncate(r.body))
	}
	if _, focus := row.Find("#schedule-1-action").Attr("autofocus"); !focus {
		t.Error("the new schedule's first field does not take the focus")
	}
	adder := r.doc.Find(`#schedule-adder[hx-swap-oob="true"]`)
	if v, _ := adder.Find(`input[name="schedule_count"]`).Attr("value"); v != "2" {
		t.Errorf("schedule count anew = %q", v)
	}
	if adder.Find(`button[name="add_schedule"]`).Length() != 1 {
		t.Error("no Add schedule button under two schedules")
	}
	last := s.get(t, "/instances/new/schedule?schedule_count="+itoa(instancehub.MaxSchedules-1), "HX-Request", "true")
	if last.doc.Find(`#schedule-adder button`).Length() != 0 {
		t.Error("Add schedule offered past the limit")
	}
	wantStatus(t, s.get(t, "/instances/new/schedule?schedule_count="+itoa(instancehub.MaxSchedules), "HX-Request", "true"), http.StatusUnprocessableEntity)
	wantStatus(t, s.get(t, "/instances/new/schedule?schedule_count=-1", "HX-Request", "true"), http.StatusUnprocessableEntity)

	r = s.get(t, "/instances/new/tag?tag_count=3", "HX-Request", "true")
	wantStatus(t, r, http.StatusOK)
	if text(r.doc.Find(`label[for="tag-3-name"]`)) != "Tag 4 name" || r.doc.Find(`#tag-3-value`).Length() != 1 {
		t.Errorf("tag row: %s", truncate(r.body))
	}
	if v, _ := r.doc.Find(`#tag-adder[hx-swap-oob="true"] input[name="tag_count"]`).Attr("value"); v != "4" {
		t.Errorf("tag count anew = %q", v)
	}
	wantStatus(t, s.get(t, "/instances/new/tag?tag_count="+itoa(instancehub.MaxTags), "HX-Request", "true"), http.StatusUnprocessableEntity)

	s.EnsureUser(t, "rita@example.com", "Rita Reader", instancehub.RoleReader)
	reader := newClientSignedIn(t, s, "rita@example.com")
	req, _ := http.NewRequest(http.MethodGet, s.server.URL+"/instances/new/tag?tag_count=0", nil)
	wantStatus(t, s.do(t, reader, req), http.StatusForbidden)
}

// TestAddRowsWithoutScriptKeepEverything: without script "Add schedule" and
// "Add tag" post the form, which comes back with one more row and
// everything typed, and makes nothing.
func TestAddRowsWithoutScriptKeepEverything(t *testing.T) {
	s := newSite(t, 0)
	s.signIn(t, "ada@example.com")
	typed := url.Values{"name": {"half-done"}, "region": {"eastus"}, "vm_size": {"Standard_DS3_v2"}, "description": {"Typed first"},
		"identity": {"system"}, "tag_count": {"1"}, "tag-0-name": {"team"}, "tag-0-value": {"vision"},
		"schedule_count": {"1"}, "schedule-0-action": {"Stop"}, "schedule-0-time": {"18:00"}, "schedule-0-week_days": {"Monday", "Friday"},
		"schedule-0-time_zone": {"Europe/Berlin"}}
	for _, button := range []string{"add_tag", "add_schedule"} {
		form := url.Values{button: {"1"}}
		for k, v := range typed {
			form[k] = v
		}
		r := s.post(t, "/instances", form)
		wantStatus(t, r, http.StatusOK)
		wantTags, wantSchedules := 1, 1
		if button == "add_tag" {
			wantTags++
		} else {
			wantSchedules++
		}
		if n := r.doc.Find(`[data-testid="tag-row"]`).Length(); n != wantTags {
			t.Errorf("%s: %d tag rows, want %d", button, n, wantTags)
		}
		if n := r.doc.Find(`[data-testid="schedule-fields"]`).Length(); n != wantSchedules {
			t.Errorf("%s: %d schedules, want %d", button, n, wantSchedules)
		}
		if v, _ := r.doc.Find(`input[name="tag_count"]`).Attr("value"); v != itoa(wantTags) {
			t.Errorf("%s: tag_count = %q", button, v)
		}
		wantKept(t, r, button)
	}
	page, _ := s.Service.ListInstances(s.Ctx, instancehub.ListQuery{})
	if page.Total != 0 {
		t.Errorf("adding rows made %d instances", page.Total)
	}
}

// wantKept checks that the form came back with what
// TestAddRowsWithoutScriptKeepEverything and TestReviewThenCreate typed.
func wantKept(t *testing.T, r *response, step string) {
	t.Helper()
	attr := func(sel, name string) string { v, _ := r.doc.Find(sel).Attr(name); return v }
	_, system := r.doc.Find("#identity-system").Attr("checked")
	_, monday := r.doc.Find("#schedule-0-day-Monday").Attr("checked")
	_, tuesday := r.doc.Find("#schedule-0-day-Tuesday").Attr("checked")
	if attr("#name", "value") != "half-done" || text(r.doc.Find("#description")) != "Typed first" || !system ||
		attr("#tag-0-name", "value") != "team" || attr("#tag-0-value", "value") != "vision" ||
		attr(`#schedule-0-action option[selected]`, "value") != "Stop" || attr("#schedule-0-time", "value") != "18:00" ||
		attr("#schedule-0-time_zone", "value") != "Europe/Berlin" || !monday || tuesday {
		t.Errorf("%s: the form lost what was typed: %s", step, truncate(text(r.doc.Find(`[data-testid="create-form"]`))))
	}
}

func newClientSignedIn(t *testing.T, s *site, email string) *http.Client {
	t.Helper()
	c := newClient()
	form := url.Values{"email": {email}, "password": {testportal.Password}}
	req, _ := http.NewRequest(http.MethodPost, s.server.URL+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if r := s.do(t, c, req); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in %s: status %d", email, r.StatusCode)
	}
	return c
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestReviewThenCreate: "Review" shows every setting, its price, the quota
// it takes and its owner, and makes nothing; its hidden fields carry what
// was typed, so that Back brings the form back as it was and Create makes
// the instance reviewed.
func TestReviewThenCreate(t *testing.T) {
	s := newSite(t, 0)
	s.Service.UserAssignedIdentities = []string{teamIdentity}
	s.signIn(t, "ada@example.com")
	typed := url.Values{"name": {"half-done"}, "region": {"eastus"}, "vm_size": {"Standard_DS3_v2"}, "type": {"CPU"},
		"description": {"Typed first"}, "identity": {"system"}, "tag_count": {"1"}, "tag-0-name": {"team"}, "tag-0-value": {"vision"},
		"idle_shutdown": {"on"}, "idle_minutes": {"90"},
		"schedule_count": {"1"}, "schedule-0-action": {"Stop"}, "schedule-0-time": {"18:00"}, "schedule-0-week_days": {"Monday", "Friday"},
		"schedule-0-time_zone": {"Europe/Berlin"}}
	form := s.get(t, "/instances/new")
	size := form.doc.Find(`[data-size="Standard_DS3_v2"]`)
	hour, _ := size.Attr("data-hour")
	month, _ := size.Attr("data-month")

	review := func() *response {
		t.Helper()
		r := s.post(t, "/instances/review", cloneValues(typed))
		wantStatus(t, r, http.StatusOK)
		return r
	}
	r := review()
	settings := map[string]string{}
	r.doc.Find(`[data-testid="review-settings"] dt`).Each(func(_ int, dt *goquery.Selection) {
		settings[text(dt)] = text(dt.Next())
	})
	want := map[string]string{
		"Compute name": "half-done", "Region": "eastus", "Virtual machine size": "Standard_DS3_v2 4 vCPUs · 14 GiB",
		"SSH": "Off", "Managed identity": "System-assigned", "Idle shutdown": "After 90 minutes without activity",
		"Description": "Typed first", "Tags": "team: vision",
	}
	for k, v := range want {
		if settings[k] != v {
			t.Errorf("review's %s = %q, want %q", k, settings[k], v)
		}
	}
	if !strings.Contains(settings["Schedules"], "Stop") || !strings.Contains(settings["Schedules"], "18:00") || !strings.Contains(settings["Schedules"], "Europe/Berlin") {
		t.Errorf("review's schedules = %q", settings["Schedules"])
	}
	if def := text(form.doc.Find(`#virtual_network option[value=""]`)); !strings.HasPrefix(def, "Default ("+settings["Virtual network"]) {
		t.Errorf("review's network = %q, the form's default %q", settings["Virtual network"], def)
	}
	if price := text(r.doc.Find(`[data-testid="review-price"]`)); hour == "" || !strings.Contains(price, hour+", "+month+" a month of office hours") {
		t.Errorf("price = %q, want %s an hour and %s a month as the form's estimate", price, hour, month)
	}
	if owner := text(r.doc.Find(`[data-testid="review-owner"]`)); owner != "You will own it: Ada Lovelace (ada@example.com)." {
		t.Errorf("owner = %q", owner)
	}
	family := quotaRow(t, r, "Standard DSv2 Family vCPUs (subscription)")
	if family[1] != "+4" || atoi(t, family[2]) != atoi(t, family[0])+4 || atoi(t, family[3]) <= 0 {
		t.Errorf("the family's quota = %v", family)
	}
	quotaRow(t, r, "Total regional vCPUs (subscription)")
	page, _ := s.Service.ListInstances(s.Ctx, instancehub.ListQuery{})
	if page.Total != 0 {
		t.Fatalf("a review made %d instances", page.Total)
	}

	// The quota the review shows is the region's as it is: an instance
	// made meanwhile counts.
	wantStatus(t, s.create(t, "first-one", nil), http.StatusSeeOther)
	s.waitRunning(t, "first-one")
	if again := quotaRow(t, review(), "Standard DSv2 Family vCPUs (subscription)"); atoi(t, again[0]) != atoi(t, family[0])+4 || again[3] != family[3] {
		t.Errorf("the family's quota after a create = %v, before %v", again, family)
	}

	carried := url.Values{}
	r.doc.Find(`[data-testid="review-form"] input[type="hidden"]`).Each(func(_ int, in *goquery.Selection) {
		name, _ := in.Attr("name")
		v, _ := in.Attr("value")
		if name != "_csrf" {
			carried.Add(name, v)
		}
	})
	for k, v := range typed {
		if strings.Join(carried[k], ",") != strings.Join(v, ",") {
			t.Errorf("the review carries %s = %q, want %q", k, carried[k], v)
		}
	}
	back := cloneValues(carried)
	back.Set("back", "1")
	b := s.post(t, "/instances", back)
	wantStatus(t, b, http.StatusOK)
	wantKept(t, b, "Back")
	if v, _ := b.doc.Find("#idle_minutes").Attr("value"); v != "90" {
		t.Errorf("Back: idle minutes = %q", v)
	}

	wantStatus(t, s.post(t, "/instances", carried), http.StatusSeeOther)
	inst, err := s.DB.FindInstanceByName(s.Ctx, "half-done")
	if err != nil {
		t.Fatal(err)
	}
	if inst.Description != "Typed first" || inst.Tags["team"] != "vision" || !inst.Identity.SystemAssigned || inst.IdleShutdown.Minutes() != 90 {
		t.Errorf("created from the review: %+v", inst)
	}
	schedules, err := s.DB.FindSchedules(s.Ctx, inst.ID)
	if err != nil || len(schedules) != 1 {
		t.Errorf("created from the review: schedules %v, %v", schedules, err)
	}
}

// TestReviewForSomeoneElse names the owner the instance is made for.
func TestReviewForSomeoneElse(t *testing.T) {
	s := newSite(t, 0)
	s.EnsureUser(t, "dana@example.com", "Dana Scientist", instancehub.RoleDataScientist)
	s.signIn(t, "ada@example.com")
	r := s.post(t, "/instances/review", url.Values{"name": {"for-dana"}, "region": {"eastus"}, "vm_size": {"Standard_DS3_v2"}, "assign_to": {"dana@example.com"}})
	wantStatus(t, r, http.StatusOK)
	if owner := text(r.doc.Find(`[data-testid="review-owner"]`)); !strings.HasPrefix(owner, "Dana Scientist (dana@example.com) will own it") {
		t.Errorf("owner = %q", owner)
	}
}

// quotaRow is the review's quota row named label: in use now, this
// instance, in use after, limit.
func quotaRow(t *testing.T, r *response, label string) []string {
	t.Helper()
	var cells []string
	r.doc.Find(`[data-testid="review-quota-row"]`).Each(func(_ int, tr *goquery.Selection) {
		if text(tr.Find("th")) == label {
			cells = texts(tr.Find("td"))
		}
	})
	if len(cells) != 4 {
		t.Fatalf("no quota row %q in %q", label, texts(r.doc.Find(`[data-testid="review-quota-row"] th`)))
	}
	return cells
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("%q is not a number", s)
	}
	return n
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// TestReviewShowsTheWorkspaceLimit: where an Owner set a workspace limit
// for the family, the review shows the share of it the instance takes.
func TestReviewShowsTheWorkspaceLimit(t *testing.T) {
	s := newSite(t, 0)
	s.signIn(t, "ada@example.com")
	if err := s.Service.SetWorkspaceLimit(s.Ctx, "eastus", "standardDSv2Family", 12, false); err != nil {
		t.Fatal(err)
	}
	r := s.post(t, "/instances/review", url.Values{"name": {"limited"}, "region": {"eastus"}, "vm_size": {"Standard_DS3_v2"}})
	wantStatus(t, r, http.StatusOK)
	if got := strings.Join(quotaRow(t, r, "Standard DSv2 Family vCPUs (workspace)"), " "); got != "0 +4 4 12" {
		t.Errorf("the workspace's row = %q, want 0 +4 4 12", got)
	}
}
