package web_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/azure/emulator"
	"github.com/instancehub/instancehub/internal/testportal"
)

// TestOpenAPI checks, with kin-openapi, that the document the portal
// serves is valid OpenAPI 3, and that the real answers of every endpoint
// (successes and refusals) match it, statuses included.
func TestOpenAPI(t *testing.T) {
	// The cloud's clock stops once the seeded VMs are made: the operations
	// the calls start stay under way, so that the refusals that depend on
	// one (a delete while creating, a start while restarting) are answered
	// however slowly the calls go.
	var stopped atomic.Pointer[time.Time]
	clock := func() time.Time {
		if at := stopped.Load(); at != nil {
			return *at
		}
		return time.Now()
	}
	dir := t.TempDir()
	s := siteOver(t, testportal.OpenWith(t, dir, emulator.Options{Path: filepath.Join(dir, "emulator.db"), Latency: 0.001, Now: clock}))
	ctx := context.Background()
	r := s.get(t, "/api/v1/openapi.json")
	wantStatus(t, r, http.StatusOK)
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData([]byte(r.body))
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(ctx); err != nil {
		t.Fatalf("the OpenAPI document is not valid: %v", err)
	}
	doc.Servers = openapi3.Servers{{URL: s.server.URL + "/api/v1"}}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}

	owner := apiClient{s, newToken(t, s, "ada@example.com", instancehub.NewToken{})}
	reader := apiClient{s, newToken(t, s, s.EnsureUser(t, "rita@example.com", "Rita Reader", instancehub.RoleReader).Email, instancehub.NewToken{})}
	nobody := apiClient{s, ""}
	s.SeedNamed(t, "seeded", s.User)
	s.SeedNamed(t, "doomed", s.User)
	s.EnsureUser(t, "new-reader@example.com", "New Reader")
	s.MakeVMs(t)
	now := time.Now()
	stopped.Store(&now)
	seeded, err := s.DB.FindInstanceByName(ctx, "seeded")
	if err != nil {
		t.Fatal(err)
	}
	file := "name: described\ntype: computeinstance\nsize: Standard_DS1_v2\nlocation: eastus\ntags: {team: vision}\n" +
		"identity: {type: system_assigned}\nschedules:\n  compute_start_stop:\n    - action: stop\n      trigger: {type: cron, expression: '0 18 * * *', time_zone: UTC}\n" +
		"    - action: start\n      trigger: {type: recurrence, frequency: week, interval: 1, time_zone: UTC, schedule: {hours: [8], minutes: [0], week_days: [monday]}}\n"

	type call struct {
		a                   apiClient
		method, path, ctype string
		body                string
		status              int
		headers             []string
	}
	calls := []call{
		{owner, "GET", "/api/v1/computes", "", "", 200, nil},
		{owner, "GET", "/api/v1/computes?search=seed&sort=name&mine=true&page=1", "", "", 200, nil},
		{nobody, "GET", "/api/v1/computes", "", "", 401, nil},
		{owner, "GET", "/api/v1/computes?page=0", "", "", 422, nil},
		{owner, "POST", "/api/v1/computes", "application/yaml", file, 202, []string{"Idempotency-Key", "k-1"}},
		{owner, "POST", "/api/v1/computes", "application/yaml", "name: x\nsizee: 1\n", 422, nil},
		{reader, "POST", "/api/v1/computes", "application/json", `{"name": "by-reader", "type": "computeinstance"}`, 403, nil},
		{owner, "POST", "/api/v1/computes:apply", "application/yaml", file, 200, nil},
		{owner, "POST", "/api/v1/computes:apply", "application/yaml", strings.Replace(file, "team: vision", "team: nlp", 1), 409, nil},
		{owner, "POST", "/api/v1/computes:apply", "application/json", `{"name": "applied", "type": "computeinstance", "size": "Standard_DS1_v2"}`, 202, nil},
		{owner, "GET", "/api/v1/computes/described", "", "", 200, nil},
		{owner, "GET", "/api/v1/computes/described", "", "", 200, []string{"Accept", "application/yaml"}},
		{owner, "GET", "/api/v1/computes/nothing", "", "", 404, nil},
		{owner, "POST", "/api/v1/computes/seeded/restart", "", "", 202, nil},
		{owner, "POST", "/api/v1/computes/seeded/start", "", "", 409, nil},
		{reader, "POST", "/api/v1/computes/seeded/stop", "", "", 403, nil},
		{owner, "GET", "/api/v1/computes/seeded/operations", "", "", 200, nil},
		{owner, "GET", "/api/v1/computes/seeded/operations/" + strconv.FormatInt(seeded.LastOperation.ID, 10), "", "", 200, nil},
		{owner, "GET", "/api/v1/computes/seeded/operations/99999", "", "", 404, nil},
		{reader, "DELETE", "/api/v1/computes/described", "", "", 403, nil},
		{owner, "DELETE", "/api/v1/computes/applied", "", "", 409, nil}, // still creating
		{owner, "DELETE", "/api/v1/computes/doomed", "", "", 202, nil},
		{owner, "GET", "/api/v1/roleAssignments?role=Owner", "", "", 200, nil},
		{owner, "POST", "/api/v1/roleAssignments", "application/json", `{"email": "new-reader@example.com", "role": "Reader"}`, 201, nil},
		{owner, "POST", "/api/v1/roleAssignments", "application/json", `{"email": "new-reader@example.com", "role": "Reader"}`, 422, nil},
		{owner, "POST", "/api/v1/roleAssignments", "application/json", `{"email": "nobody@example.com", "role": "Reader"}`, 422, nil},
		{reader, "DELETE", "/api/v1/roleAssignments/1", "", "", 403, nil},
		{owner, "DELETE", "/api/v1/roleAssignments/1", "", "", 409, nil}, // the last Owner
		{owner, "GET", "/api/v1/quotas?region=eastus", "", "", 200, nil},
		{owner, "GET", "/api/v1/quotas?region=atlantis", "", "", 422, nil},
		{owner, "PUT", "/api/v1/quotas/eastus/standardDSv2Family", "application/json", `{"limit": 24}`, 200, nil},
		{owner, "PUT", "/api/v1/quotas/eastus/standardDSv2Family", "application/json", `{"limit": null}`, 200, nil},
		{owner, "PUT", "/api/v1/quotas/eastus/standardDSv2Family", "application/json", `{"limit": 100000}`, 422, nil},
		{owner, "POST", "/api/v1/quotaRequests", "application/json", `{"region": "eastus", "family": "standardDSv2Family", "vcpus": 4, "reason": "training"}`, 201, nil},
		{owner, "POST", "/api/v1/quotaRequests", "application/json", `{"region": "eastus", "family": "standardDSv2Family", "vcpus": 4, "reason": "again"}`, 409, nil},
		{reader, "POST", "/api/v1/quotaRequests", "application/json", `{"region": "eastus", "family": "standardDSv3Family", "vcpus": 4, "reason": "x"}`, 403, nil},
		{owner, "POST", "/api/v1/quotaRequests", "application/json", `{"region": "eastus", "family": "standardDSv3Family", "vcpus": 4, "reason": ""}`, 422, nil},
		{owner, "GET", "/api/v1/quotaRequests", "", "", 200, nil},
		{reader, "GET", "/api/v1/quotaRequests", "", "", 403, nil},
		{owner, "POST", "/api/v1/quotaRequests/1/decline", "application/json", `{"answer": ""}`, 422, nil},
		{owner, "POST", "/api/v1/quotaRequests/1/grant", "", "", 422, nil}, // no workspace limit: 40 + 4 is above Azure's
		{owner, "PUT", "/api/v1/quotas/eastus/standardDSv2Family", "application/json", `{"limit": 24}`, 200, nil},
		{owner, "POST", "/api/v1/quotaRequests/1/grant", "", "", 200, nil},
		{owner, "POST", "/api/v1/quotaRequests/1/decline", "application/json", `{"answer": "late"}`, 409, nil},
		{owner, "POST", "/api/v1/quotaRequests/99/grant", "", "", 404, nil},
		{owner, "GET", "/api/v1/auditEvents?action=instance.&result=succeeded", "", "", 200, nil},
		{reader, "GET", "/api/v1/auditEvents", "", "", 403, nil},
	}
	seen := map[string]bool{}
	for _, c := range calls {
		resp := c.a.call(t, c.method, c.path, c.ctype, c.body, c.headers...)
		if resp.StatusCode != c.status {
			t.Errorf("%s %s: status %d, want %d: %s", c.method, c.path, resp.StatusCode, c.status, truncate(resp.body))
			continue
		}
		req, _ := http.NewRequest(c.method, s.server.URL+c.path, strings.NewReader(c.body))
		route, params, err := router.FindRoute(req)
		if err != nil {
			t.Errorf("%s %s: not in the document: %v", c.method, c.path, err)
			continue
		}
		seen[route.Method+" "+route.Path] = true
		in := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
			Status:                 resp.StatusCode, Header: resp.Header, Body: io.NopCloser(bytes.NewReader([]byte(resp.body))),
			Options: &openapi3filter.Options{IncludeResponseStatus: true},
		}
		if err := openapi3filter.ValidateResponse(ctx, in); err != nil {
			t.Errorf("%s %s (%d) does not match the document: %v\n%s", c.method, c.path, resp.StatusCode, err, truncate(resp.body))
		}
	}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			if !seen[method+" "+path] {
				t.Errorf("%s %s: no answer of it was checked", method, path)
			}
		}
	}
}

// TestOpenAPIDocumentIsComplete holds what Redocly's lint (make
// check-openapi) asks of the document, in the Go tests too: a summary and
// an operationId on every operation, and a license.
func TestOpenAPIDocumentIsComplete(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	if doc.Info.License == nil || doc.Info.License.Name == "" {
		t.Error("the document names no license")
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if strings.TrimSpace(op.Summary) == "" || op.OperationID == "" {
				t.Errorf("%s %s has no summary or no operationId", method, path)
			}
		}
	}
}
