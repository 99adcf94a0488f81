package web_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/instancehub/instancehub"
)

// apiClient calls the site's API with a token.
type apiClient struct {
	s     *site
	token string
}

func (a apiClient) call(t *testing.T, method, path, contentType, body string, headers ...string) *response {
	t.Helper()
	req, _ := http.NewRequest(method, a.s.server.URL+path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return a.s.do(t, http.DefaultClient, req)
}

func (a apiClient) get(t *testing.T, path string) *response { return a.call(t, "GET", path, "", "") }

// newToken makes a token for email from the server's command line.
func newToken(t *testing.T, s *site, email string, n instancehub.NewToken) string {
	t.Helper()
	if n.Name == "" {
		n.Name = "test " + fmt.Sprint(time.Now().UnixNano())
	}
	created, err := s.Service.CreateTokenFromCLI(context.Background(), email, n)
	if err != nil {
		t.Fatal(err)
	}
	return created.Secret
}

func decodeJSON(t *testing.T, r *response, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(r.body), v); err != nil {
		t.Fatalf("%s %s: not JSON (%v): %s", r.Request.Method, r.Request.URL.Path, err, truncate(r.body))
	}
}

type errorJSON struct {
	Error struct {
		Code    string
		Message string
		Details []struct{ Code, Target, Message string }
	}
}

func apiErrorOf(t *testing.T, r *response) errorJSON {
	t.Helper()
	var e errorJSON
	decodeJSON(t, r, &e)
	if e.Error.Code == "" || e.Error.Message == "" {
		t.Fatalf("error without code or message: %s", r.body)
	}
	return e
}

// pollOperation polls an operation's address until it ends, as a client of
// a 202 does, and returns its last state.
func pollOperation(t *testing.T, a apiClient, location string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := a.get(t, location)
		wantStatus(t, r, http.StatusOK)
		var op map[string]any
		decodeJSON(t, r, &op)
		if op["status"] != "InProgress" {
			return op
		}
		if r.Header.Get("Retry-After") == "" {
			t.Fatal("an operation in progress without Retry-After")
		}
		if time.Now().After(deadline) {
			t.Fatalf("operation %s still in progress: %v", location, op)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestAPICreatePollShowStopDelete: a create from a file answers 202 with
// the operation, which a client polls to the end; the instance then reads
// in the reference's shape, and a Stop and a Delete go the same way, the
// Delete's operation readable after the instance is gone.
func TestAPICreatePollShowStopDelete(t *testing.T) {
	s := newSite(t, 0.01)
	a := apiClient{s, newToken(t, s, "ada@example.com", instancehub.NewToken{})}
	file := `name: api-box
type: computeinstance
size: STANDARD_DS1_V2
location: eastus
description: For the nightly report
tags: {team: vision, cost-center: 4711}
idle_time_before_shutdown: PT45M
identity:
  type: system_assigned
`
	r := a.call(t, "POST", "/api/v1/computes", "application/yaml", file)
	wantStatus(t, r, http.StatusAccepted)
	location := r.Header.Get("Location")
	if !strings.HasPrefix(location, "/api/v1/computes/api-box/operations/") || r.Header.Get("Content-Location") != "/api/v1/computes/api-box" {
		t.Fatalf("Location %q, Content-Location %q", location, r.Header.Get("Content-Location"))
	}
	var op map[string]any
	decodeJSON(t, r, &op)
	if op["name"] != "Create" || op["status"] != "InProgress" || op["compute"] != "api-box" {
		t.Errorf("202 body = %v", op)
	}
	if done := pollOperation(t, a, location); done["status"] != "Succeeded" || done["endTime"] == nil {
		t.Fatalf("create ended %v", done)
	}

	r = a.get(t, "/api/v1/computes/api-box")
	wantStatus(t, r, http.StatusOK)
	for h, want := range map[string]string{"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
		"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store", "Content-Type": "application/json"} {
		if got := r.Header.Get(h); got != want {
			t.Errorf("%s: %q, want %q", h, got, want)
		}
	}
	var c struct {
		Name, Location string
		Tags           map[string]string
		Identity       struct{ Type string }
		Properties     struct {
			ComputeType, Description, ProvisioningState string
			Properties                                  struct {
				VMSize, State, IdleTimeBeforeShutdown string
				Applications                          []struct{ DisplayName, EndpointURI string }
				ConnectivityEndpoints                 struct{ PrivateIPAddress string }
				SSHSettings                           struct {
					SSHPublicAccess, AdminUserName string
					SSHPort                        int
				}
				LastOperation struct{ OperationName, OperationStatus, OperationTrigger string }
				CreatedBy     struct{ UserName string }
			}
		}
	}
	decodeJSON(t, r, &c)
	p := c.Properties.Properties
	switch {
	case c.Name != "api-box" || c.Location != "eastus" || c.Properties.ComputeType != "ComputeInstance":
		t.Errorf("resource = %+v", c)
	case p.VMSize != "Standard_DS1_v2" || p.State != "Running" || c.Properties.ProvisioningState != "Succeeded":
		t.Errorf("size %q state %q provisioning %q", p.VMSize, p.State, c.Properties.ProvisioningState)
	case len(p.Applications) != 4 || !strings.HasSuffix(p.Applications[0].EndpointURI, "/instances/api-box/apps/jupyterlab/"):
		t.Errorf("applications = %+v", p.Applications)
	case p.SSHSettings.SSHPublicAccess != "Disabled" || p.SSHSettings.AdminUserName != "azureuser" || p.SSHSettings.SSHPort != 22:
		t.Errorf("ssh = %+v", p.SSHSettings)
	case p.LastOperation.OperationName != "Create" || p.LastOperation.OperationStatus != "Succeeded" || p.LastOperation.OperationTrigger != "User":
		t.Errorf("last operation = %+v", p.LastOperation)
	case p.IdleTimeBeforeShutdown != "PT45M" || c.Tags["team"] != "vision" || c.Identity.Type != "SystemAssigned" ||
		c.Properties.Description != "For the nightly report" || p.CreatedBy.UserName != "Ada Lovelace" || p.ConnectivityEndpoints.PrivateIPAddress == "":
		t.Errorf("compute = %+v", c)
	}

	r = a.call(t, "POST", "/api/v1/computes/api-box/stop", "", "")
	wantStatus(t, r, http.StatusAccepted)
	if done := pollOperation(t, a, r.Header.Get("Location")); done["status"] != "Succeeded" || done["name"] != "Stop" {
		t.Fatalf("stop ended %v", done)
	}
	r = a.call(t, "POST", "/api/v1/computes/api-box/stop", "", "")
	wantStatus(t, r, http.StatusConflict)
	if e := apiErrorOf(t, r); e.Error.Code != "conflict" {
		t.Errorf("a second stop: %+v", e)
	}

	r = a.call(t, "DELETE", "/api/v1/computes/api-box", "", "")
	wantStatus(t, r, http.StatusAccepted)
	if done := pollOperation(t, a, r.Header.Get("Location")); done["status"] != "Succeeded" || done["name"] != "Delete" {
		t.Fatalf("delete ended %v", done)
	}
	wantStatus(t, a.get(t, "/api/v1/computes/api-box"), http.StatusNotFound)

	// The instance is gone; its operations stay listed, its Delete first,
	// as the Delete's own address answers it.
	var ops struct{ Value []map[string]any }
	r = a.get(t, "/api/v1/computes/api-box/operations")
	wantStatus(t, r, http.StatusOK)
	decodeJSON(t, r, &ops)
	if len(ops.Value) != 3 || ops.Value[0]["name"] != "Delete" || ops.Value[0]["status"] != "Succeeded" || ops.Value[2]["name"] != "Create" {
		t.Errorf("operations after the delete: %v", ops.Value)
	}
	wantStatus(t, a.get(t, "/api/v1/computes/never-made/operations"), http.StatusNotFound)
}

// TestAPIIdempotentCreate: a create retried with the same Idempotency-Key
// makes one instance and answers with the first one's operation; the key
// used for another name is refused.
func TestAPIIdempotentCreate(t *testing.T) {
	s := newSite(t, 0)
	a := apiClient{s, newToken(t, s, "ada@example.com", instancehub.NewToken{})}
	file := "name: once\ntype: computeinstance\nsize: Standard_DS1_v2\n"
	first := a.call(t, "POST", "/api/v1/computes", "application/yaml", file, "Idempotency-Key", "7b0c6c2e-retry")
	wantStatus(t, first, http.StatusAccepted)
	second := a.call(t, "POST", "/api/v1/computes", "application/yaml", file, "Idempotency-Key", "7b0c6c2e-retry")
	wantStatus(t, second, http.StatusAccepted)
	if first.Header.Get("Location") != second.Header.Get("Location") || second.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("retry answered %q (replayed %q), first %q", second.Header.Get("Location"), second.Header.Get("Idempotent-Replayed"), first.Header.Get("Location"))
	}
	page, err := s.Service.ListInstances(s.Ctx, instancehub.ListQuery{Search: "once"})
	if err != nil || page.Total != 1 {
		t.Fatalf("instances named once: %d (%v)", page.Total, err)
	}
	events, err := s.Service.AuditEvents(s.Ctx, instancehub.AuditFilter{Action: "instance.create", Target: "once"}, 1)
	if err != nil || events.Total != 1 {
		t.Errorf("audited creates: %d (%v), want 1", events.Total, err)
	}
	other := a.call(t, "POST", "/api/v1/computes", "application/yaml", "name: twice\ntype: computeinstance\n", "Idempotency-Key", "7b0c6c2e-retry")
	wantStatus(t, other, http.StatusUnprocessableEntity)
	if e := apiErrorOf(t, other); len(e.Error.Details) != 1 || e.Error.Details[0].Target != "Idempotency-Key" {
		t.Errorf("reused key: %s", other.body)
	}
	// After the instance changed, a retry still answers its create.
	s.WaitState(t, "once", instancehub.StateRunning)
	if _, err := s.Service.Act(s.Ctx, "once", instancehub.OpStop); err != nil {
		t.Fatal(err)
	}
	late := a.call(t, "POST", "/api/v1/computes", "application/yaml", file, "Idempotency-Key", "7b0c6c2e-retry")
	wantStatus(t, late, http.StatusAccepted)
	var op map[string]any
	decodeJSON(t, late, &op)
	if late.Header.Get("Location") != first.Header.Get("Location") || op["name"] != "Create" {
		t.Errorf("a retry after a stop answers %s: %v", late.Header.Get("Location"), op)
	}
	// Without a key, the same file is a second create, refused by name.
	again := a.call(t, "POST", "/api/v1/computes", "application/yaml", file)
	wantStatus(t, again, http.StatusUnprocessableEntity)
	if e := apiErrorOf(t, again); len(e.Error.Details) != 1 || e.Error.Details[0].Target != "name" {
		t.Errorf("a second create of once: %s", again.body)
	}
	long := a.call(t, "POST", "/api/v1/computes", "application/yaml", "name: keyed\ntype: computeinstance\n", "Idempotency-Key", strings.Repeat("k", 300))
	wantStatus(t, long, http.StatusUnprocessableEntity)
}

// TestAPIErrors: bad input answers JSON errors with the page's statuses and
// changes nothing.
func TestAPIErrors(t *testing.T) {
	s := newSite(t, 0)
	a := apiClient{s, newToken(t, s, "ada@example.com", instancehub.NewToken{})}
	cases := []struct {
		name, method, path, ctype, body string
		status                          int
		code, target, says              string
	}{
		{"unknown key", "POST", "/api/v1/computes", "application/yaml", "name: x1\ntype: computeinstance\nsizee: Standard_DS1_v2\n",
			422, "invalid", "sizee", "line 3, column 1"},
		{"wrong type", "POST", "/api/v1/computes", "application/json", `{"name": "x2", "type": "computeinstance", "ssh_public_access_enabled": "maybe"}`,
			422, "invalid", "ssh_public_access_enabled", "line 1, column"},
		{"size not offered", "POST", "/api/v1/computes", "application/yaml", "name: x3\ntype: computeinstance\nsize: Standard_Nope\n",
			422, "invalid", "size", "line 3, column 1: Standard_Nope is not offered"},
		{"bad key", "POST", "/api/v1/computes", "application/yaml", "name: x4\ntype: computeinstance\nssh_public_access_enabled: true\nssh_settings: {ssh_key_value: not-a-key}\n",
			422, "invalid", "ssh_settings.ssh_key_value", ""},
		{"bad tags", "POST", "/api/v1/computes", "application/yaml", "name: x5\ntype: computeinstance\ntags: {instancehub-owner: me}\n",
			422, "invalid", "tags", "kept for the portal"},
		{"bad identity", "POST", "/api/v1/computes", "application/yaml", "name: x6\ntype: computeinstance\nidentity: {type: user_assigned, user_assigned_identities: [{resource_id: /nope}]}\n",
			422, "invalid", "identity", "not the resource ID"},
		{"text body", "POST", "/api/v1/computes", "text/plain", "name: x7", 422, "invalid", "", "YAML"},
		{"role JSON unknown field", "POST", "/api/v1/roleAssignments", "application/json", `{"email": "ada@example.com", "role": "Reader", "admin": true}`,
			422, "invalid", "", "unknown field"},
		{"role missing", "POST", "/api/v1/roleAssignments", "application/json", `{"email": "ada@example.com"}`, 422, "invalid", "role", "Choose a role"},
		{"no such compute", "GET", "/api/v1/computes/nope", "", "", 404, "not_found", "", ""},
		{"no such route", "GET", "/api/v1/nothing", "", "", 404, "not_found", "", "openapi.json"},
		{"bad page", "GET", "/api/v1/computes?page=-1", "", "", 422, "invalid", "page", ""},
		{"bad action", "POST", "/api/v1/computes/nope/explode", "", "", 404, "not_found", "", ""},
		{"negative limit", "PUT", "/api/v1/quotas/eastus/standardDSv2Family", "application/json", `{"limit": -3}`, 422, "invalid", "limit", ""},
		{"bad date", "GET", "/api/v1/auditEvents?from=yesterday", "", "", 422, "invalid", "from", "YYYY-MM-DD"},
		{"too large", "POST", "/api/v1/computes", "application/yaml", "name: x8\ndescription: " + strings.Repeat("a", 600<<10) + "\n", 413, "invalid", "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := a.call(t, c.method, c.path, c.ctype, c.body)
			if r.StatusCode != c.status {
				t.Fatalf("status %d, want %d: %s", r.StatusCode, c.status, truncate(r.body))
			}
			if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Fatalf("Content-Type %q", ct)
			}
			e := apiErrorOf(t, r)
			if e.Error.Code != c.code || !strings.Contains(r.body, c.says) {
				t.Errorf("error = %s", r.body)
			}
			if c.target != "" && (len(e.Error.Details) == 0 || !strings.Contains(r.body, `"target":"`+c.target+`"`)) {
				t.Errorf("no detail for %s: %s", c.target, r.body)
			}
		})
	}
	page, _ := s.Service.ListInstances(s.Ctx, instancehub.ListQuery{})
	if page.Total != 0 {
		t.Errorf("refused creates made %d instances", page.Total)
	}
}

// TestTokens: a token is shown once and kept as a hash; it stops at its
// expiry, at its revocation (the next call), when its user is disabled,
// and it carries its user's roles as they are at each call. It works on
// the API only, and the API takes nothing else.
func TestTokens(t *testing.T) {
	s := newSite(t, 0)
	signIn(t, s, "ada@example.com")
	r := s.post(t, "/tokens", url.Values{"name": {"nightly report"}, "expires": {"30d"}})
	wantStatus(t, r, http.StatusCreated)
	secret := text(r.doc.Find("[data-testid=token-secret]"))
	if !strings.HasPrefix(secret, instancehub.TokenPrefix) || len(secret) < 40 {
		t.Fatalf("secret shown: %q", secret)
	}
	page := s.get(t, "/tokens")
	if strings.Contains(page.body, secret) || !strings.Contains(page.body, secret[:8]) || text(page.doc.Find("[data-testid=token-status]")) != "Active" {
		t.Error("the tokens page shows the secret again, or not the token's prefix and status")
	}
	var stored string
	raw, err := sql.Open("sqlite", filepath.Join(s.Dir, "instancehub.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if err := raw.QueryRow(`SELECT token_hash FROM api_tokens WHERE name = 'nightly report'`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if stored == secret || strings.Contains(stored, secret[len(instancehub.TokenPrefix):]) || len(stored) != 64 {
		t.Errorf("stored %q: not a hash of the secret", stored)
	}

	a := apiClient{s, secret}
	wantStatus(t, a.get(t, "/api/v1/computes"), http.StatusOK)
	// The cookie path takes no token; the token path takes no cookie.
	req, _ := http.NewRequest("GET", s.server.URL+"/instances", nil)
	req.Header.Set("Authorization", "Bearer "+secret)
	if r := s.do(t, newClient(), req); r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
		t.Errorf("a page with a token: %d %s, want the sign-in page", r.StatusCode, r.Header.Get("Location"))
	}
	req, _ = http.NewRequest("GET", s.server.URL+"/api/v1/computes", nil)
	if r := s.do(t, s.client, req); r.StatusCode != http.StatusUnauthorized || !strings.Contains(r.body, "session cookie") {
		t.Errorf("the API with the session cookie: %d %s", r.StatusCode, r.body)
	}
	req, _ = http.NewRequest("POST", s.server.URL+"/api/v1/roleAssignments", strings.NewReader(`{"email":"ada@example.com","role":"Reader"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", s.csrfToken(t, s.client))
	if r := s.do(t, s.client, req); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("a write with cookie and CSRF token: %d", r.StatusCode)
	}

	// Roles are read at every call.
	bob := s.EnsureUser(t, "bob@example.com", "Bob", instancehub.RoleReader)
	bobs := apiClient{s, newToken(t, s, bob.Email, instancehub.NewToken{})}
	wantStatus(t, bobs.get(t, "/api/v1/computes"), http.StatusOK)
	page2, err := s.Service.RoleAssignments(s.Ctx, instancehub.RoleReader)
	if err != nil {
		t.Fatal(err)
	}
	for _, ra := range page2.Assignments {
		if ra.UserEmail == bob.Email {
			if _, err := s.Service.RemoveRoleAssignment(s.Ctx, ra.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	if r := bobs.get(t, "/api/v1/computes"); r.StatusCode != http.StatusForbidden {
		t.Errorf("a token of someone whose role is gone: %d", r.StatusCode)
	}

	// A read-only token reads and changes nothing.
	s.SeedNamed(t, "ro-box", s.User)
	ro := apiClient{s, newToken(t, s, "ada@example.com", instancehub.NewToken{ReadOnly: true})}
	wantStatus(t, ro.get(t, "/api/v1/computes/ro-box"), http.StatusOK)
	wantStatus(t, ro.get(t, "/api/v1/auditEvents"), http.StatusOK)
	for _, call := range []struct{ method, path, ctype, body string }{
		{"POST", "/api/v1/computes/ro-box/stop", "", ""},
		{"POST", "/api/v1/computes", "application/yaml", "name: ro-new\ntype: computeinstance\n"},
		{"PUT", "/api/v1/quotas/eastus/standardDSv2Family", "application/json", `{"limit": 8}`},
	} {
		r := ro.call(t, call.method, call.path, call.ctype, call.body)
		if r.StatusCode != http.StatusForbidden || !strings.Contains(r.body, "read-only") {
			t.Errorf("%s %s with a read-only token: %d %s", call.method, call.path, r.StatusCode, r.body)
		}
	}

	// Revocation takes effect at the next call.
	tokens, err := s.Service.APITokens(s.Ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	var nightly *instancehub.APIToken
	for _, tk := range tokens {
		if tk.Name == "nightly report" {
			nightly = tk
		}
	}
	if nightly == nil || nightly.LastUsedAt.IsZero() {
		t.Fatalf("the used token: %+v", nightly)
	}
	r = s.post(t, fmt.Sprintf("/tokens/%d/revoke", nightly.ID), nil)
	wantStatus(t, r, http.StatusSeeOther)
	if r := a.get(t, "/api/v1/computes"); r.StatusCode != http.StatusUnauthorized || r.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("a revoked token: %d", r.StatusCode)
	}

	// Expiry, on a moved clock; and a disabled user's tokens stop.
	short := apiClient{s, newToken(t, s, "ada@example.com", instancehub.NewToken{Expires: "1d"})}
	wantStatus(t, short.get(t, "/api/v1/computes"), http.StatusOK)
	s.Service.Now = func() time.Time { return time.Now().Add(25 * time.Hour) }
	if r := short.get(t, "/api/v1/computes"); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("an expired token: %d", r.StatusCode)
	}
	s.Service.Now = nil
	carol := s.EnsureUser(t, "carol@example.com", "Carol", instancehub.RoleDataScientist)
	carols := apiClient{s, newToken(t, s, carol.Email, instancehub.NewToken{})}
	wantStatus(t, carols.get(t, "/api/v1/computes"), http.StatusOK)
	if _, err := s.Service.SetUserDisabled(s.Ctx, carol.ID, true); err != nil {
		t.Fatal(err)
	}
	if r := carols.get(t, "/api/v1/computes"); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("a disabled user's token: %d", r.StatusCode)
	}

	// Creating, the first use and revoking are audited; later uses are not.
	for action, want := range map[string]int{"token.create": 5, "token.use": 5, "token.revoke": 1} {
		events, err := s.Service.AuditEvents(s.Ctx, instancehub.AuditFilter{Action: action}, 1)
		if err != nil || events.Total != want {
			t.Errorf("%s audited %d times (%v), want %d", action, events.Total, err, want)
		}
	}
}

// TestTokenForm: the form refuses a missing name, a lifetime over a year
// and a name in use, next to the field; Owners see and revoke everyone's.
func TestTokenForm(t *testing.T) {
	s := newSite(t, 0)
	signIn(t, s, "ada@example.com")
	for _, c := range []struct {
		form  url.Values
		field string
	}{
		{url.Values{"name": {""}}, "token-name-error"},
		{url.Values{"name": {"x"}, "expires": {"400d"}}, "token-expires-error"},
		{url.Values{"name": {strings.Repeat("n", 101)}}, "token-name-error"},
	} {
		r := s.post(t, "/tokens", c.form)
		wantStatus(t, r, http.StatusUnprocessableEntity)
		if r.doc.Find("#"+c.field).Text() == "" {
			t.Errorf("%v: no message at %s", c.form, c.field)
		}
	}
	wantStatus(t, s.post(t, "/tokens", url.Values{"name": {"ci"}}), http.StatusCreated)
	r := s.post(t, "/tokens", url.Values{"name": {"CI"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if !strings.Contains(r.doc.Find("#token-name-error").Text(), "already") {
		t.Errorf("a duplicate name: %q", r.doc.Find("#token-name-error").Text())
	}
	bob := s.EnsureUser(t, "bob@example.com", "Bob", instancehub.RoleDataScientist)
	newToken(t, s, bob.Email, instancehub.NewToken{Name: "bob's laptop"})
	all := s.get(t, "/access/tokens")
	wantStatus(t, all, http.StatusOK)
	row := all.doc.Find(`tr[data-token="bob's laptop"]`)
	if !strings.Contains(row.Text(), "Bob") || row.Find("button").Length() != 1 {
		t.Fatalf("Owners' list: %q", row.Text())
	}
	action, _ := row.Find("form").Attr("action")
	wantStatus(t, s.post(t, action, nil), http.StatusSeeOther)
	if got := text(s.get(t, "/access/tokens").doc.Find(`tr[data-token="bob's laptop"] [data-testid=token-status]`)); got != "Revoked" {
		t.Errorf("after an Owner revoked it: %q", got)
	}
}

// TestDisablingRevokesTokens: disabling an account revokes its tokens for
// good: they are refused while it is disabled and still once it is enabled
// again, listed as revoked; a token made after that works. The Users tab
// says so before an Owner disables anyone, and the audit log counts them.
func TestDisablingRevokesTokens(t *testing.T) {
	s := newSite(t, 0)
	carol := s.EnsureUser(t, "carol@example.com", "Carol", instancehub.RoleDataScientist)
	old := apiClient{s, newToken(t, s, carol.Email, instancehub.NewToken{Name: "nightly"})}
	readOnly := apiClient{s, newToken(t, s, carol.Email, instancehub.NewToken{Name: "dashboard", ReadOnly: true})}
	wantStatus(t, old.get(t, "/api/v1/computes"), http.StatusOK)

	s.signIn(t, "ada@example.com") // an Owner
	confirm, _ := s.get(t, "/access/people").doc.Find(`button[aria-label="Disable Carol"]`).Attr("data-confirm")
	if !strings.HasPrefix(confirm, "Disable Carol?") || !strings.Contains(confirm, "tokens are revoked") || !strings.Contains(confirm, "enabling") {
		t.Errorf("disabling asks %q", confirm)
	}
	wantStatus(t, s.post(t, fmt.Sprintf("/access/people/%d/disable", carol.ID), nil), http.StatusSeeOther)
	for _, state := range []string{"disabled", "enabled again"} {
		for _, c := range []apiClient{old, readOnly} {
			if r := c.get(t, "/api/v1/computes"); r.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s: an old token answers %d", state, r.StatusCode)
			}
		}
		wantStatus(t, s.post(t, fmt.Sprintf("/access/people/%d/enable", carol.ID), nil), http.StatusSeeOther)
	}
	all := s.get(t, "/access/tokens")
	for _, name := range []string{"nightly", "dashboard"} {
		row := all.doc.Find(`tr`).FilterFunction(func(_ int, r *goquery.Selection) bool { return strings.Contains(r.Text(), name) })
		if got := text(row.Find(`[data-testid="token-status"]`)); got != "Revoked" {
			t.Errorf("the token %s is listed as %q", name, got)
		}
	}
	fresh := apiClient{s, newToken(t, s, carol.Email, instancehub.NewToken{Name: "nightly"})}
	wantStatus(t, fresh.get(t, "/api/v1/computes"), http.StatusOK)

	log, err := s.Service.AuditEvents(s.Ctx, instancehub.AuditFilter{Action: "user.disable"}, 1)
	if err != nil || log.Total != 1 || log.Events[0].Target != "carol@example.com (2 tokens revoked)" {
		t.Errorf("audit of the disabling: %+v, %v", log.Events, err)
	}
}

// TestTokensPageWithoutRole: someone with no role sees why they cannot
// make a token where the form would be, and a form posted anyway is
// refused with the same reason, making nothing.
func TestTokensPageWithoutRole(t *testing.T) {
	s := newSite(t, 0)
	nobody := s.EnsureUser(t, "nobody@example.com", "No Role")
	s.signIn(t, nobody.Email)
	page := s.get(t, "/tokens")
	wantStatus(t, page, http.StatusOK)
	if page.doc.Find(`#token-name`).Length() != 0 || !strings.Contains(text(page.doc.Find(`[data-testid="token-refusal"]`)), "no role") {
		t.Errorf("the Tokens page of someone with no role offers the form, or does not say why not: %q", text(page.doc.Find("main")))
	}
	r := s.post(t, "/tokens", url.Values{"name": {"nightly"}, "expires": {"30d"}})
	wantStatus(t, r, http.StatusForbidden)
	if !strings.Contains(text(r.doc.Find(`[data-testid="token-refusal"]`)), "no role") || r.doc.Find(`[data-testid="token-secret"]`).Length() != 0 {
		t.Errorf("a token posted without a role: %q", text(r.doc.Find("main")))
	}
	if tokens, err := s.DB.FindTokens(s.Ctx, nobody.ID, time.Now()); err != nil || len(tokens) != 0 {
		t.Errorf("tokens kept: %d, %v", len(tokens), err)
	}
}
