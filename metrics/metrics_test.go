package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v8"
	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/azure/emulator"
	"github.com/instancehub/instancehub/internal/promtest"
	"github.com/instancehub/instancehub/internal/testportal"
	"github.com/instancehub/instancehub/metrics"
	"github.com/instancehub/instancehub/web"
)

// withMetrics gives the test portal an engine and a service that tell m.
func withMetrics(t *testing.T, p *testportal.Portal, m *metrics.Metrics, replica string) *instancehub.Engine {
	t.Helper()
	p.Engine.Stop()
	e := &instancehub.Engine{Instances: p.DB, Cloud: p.Cloud, Logger: p.Engine.Logger, PollInterval: 5 * time.Millisecond,
		Replica: replica, Exclusive: true, Metrics: m}
	if err := e.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Stop)
	p.Service.Engine, p.Service.Metrics = e, m
	return e
}

// TestOperationsAndSync: a create that Azure fails is counted failed with
// Azure's own code, one that succeeds succeeded, both with their durations,
// none left in flight; a VM stopped outside the portal is drift a sync
// finds.
func TestOperationsAndSync(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0)
	m := metrics.New(metrics.Options{Replica: "a"})
	withMetrics(t, p, m, "a")
	p.Emu.InjectFault(emulator.Fault{API: "VirtualMachinesClient.BeginCreateOrUpdate", Resource: "doomed", Async: true,
		StatusCode: 200, Code: "AllocationFailed", Message: "Allocation failed."})
	for _, name := range []string{"doomed", "fine"} {
		if _, err := p.Service.CreateInstance(p.Ctx, testportal.Request(name)); err != nil {
			t.Fatal(err)
		}
	}
	p.WaitState(t, "doomed", instancehub.StateCreateFailed)
	p.WaitState(t, "fine", instancehub.StateRunning)

	vms, err := armcompute.NewVirtualMachinesClient(p.Emu.SubscriptionID(), p.Emu.Credential(), p.Emu.ClientOptions())
	if err != nil {
		t.Fatal(err)
	}
	stop, err := vms.BeginDeallocate(context.Background(), p.Emu.ResourceGroup(), "fine", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stop.PollUntilDone(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if report, err := p.Service.Refresh(p.Ctx); err != nil || report.Changed != 1 {
		t.Fatalf("refresh: %+v, %v; want the stopped VM found", report, err)
	}

	promtest.Await(t, func() promtest.Figures { return promtest.Scrape(t, m.Handler()) },
		"instancehub_operations_finished_total", nil, 2)
	f := promtest.Await(t, func() promtest.Figures { return promtest.Scrape(t, m.Handler()) }, "instancehub_operations_in_flight", nil, 0)
	for _, want := range []struct {
		name   string
		labels map[string]string
		value  float64
	}{
		{"instancehub_operations_started_total", map[string]string{"kind": "Create", "trigger": "User"}, 2},
		{"instancehub_operations_finished_total", map[string]string{"kind": "Create", "status": "Succeeded"}, 1},
		{"instancehub_operations_finished_total", map[string]string{"kind": "Create", "status": "Failed"}, 1},
		{"instancehub_operations_failed_total", map[string]string{"kind": "Create", "trigger": "User", "code": "AllocationFailed"}, 1},
		{"instancehub_operations_failed_total", nil, 1},
		{"instancehub_operation_duration_seconds", map[string]string{"kind": "Create"}, 2},
		{"instancehub_operations_in_flight", nil, 0},
		{"instancehub_leases_held", map[string]string{"lease": "operation"}, 0},
		{"instancehub_sync_drift_total", map[string]string{"found": "changed"}, 1},
		{"instancehub_sync_drift_total", map[string]string{"found": "missing"}, 0},
		{"instancehub_replica_info", map[string]string{"replica": "a"}, 1},
	} {
		if got := f.Sum(want.name, want.labels); got != want.value {
			t.Errorf("%s%v = %v, want %v", want.name, want.labels, got, want.value)
		}
	}
	if got := f.Sum("instancehub_sync_duration_seconds", map[string]string{"result": "ok"}); got != 1 {
		t.Errorf("syncs counted: %v, want the refresh's", got)
	}
}

// TestHTTPRequestsByRoute: the portal's requests are counted under their
// route's pattern, never the path asked; a path no route has is
// "unmatched", a method no route takes "other".
func TestHTTPRequestsByRoute(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0)
	m := metrics.New(metrics.Options{Replica: "a"})
	srv := httptest.NewServer(web.New(web.Config{Metrics: m, LocalAccounts: true}, p.Service).Handler())
	defer srv.Close()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, r := range []struct{ method, path string }{
		{"GET", "/instances/secret-project-name"}, {"GET", "/instances/another-name/row"}, {"GET", "/login"},
		{"GET", "/no/such/page/ada@example.com"}, {"BREW", "/login"}, {"DELETE", "/login"},
	} {
		req, _ := http.NewRequest(r.method, srv.URL+r.path, nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	f := promtest.Scrape(t, m.Handler())
	for _, want := range []struct {
		labels map[string]string
		value  float64
	}{
		{map[string]string{"route": "/instances/:name", "method": "GET", "code": "303"}, 1},
		{map[string]string{"route": "/instances/:name/row", "method": "GET", "code": "303"}, 1},
		{map[string]string{"route": "/login", "method": "GET", "code": "200"}, 1},
		{map[string]string{"route": web.UnmatchedRoute, "method": "GET"}, 1},
		{map[string]string{"route": web.UnmatchedRoute, "method": metrics.Other}, 1},
		{map[string]string{"route": web.UnmatchedRoute, "method": "DELETE"}, 1},
		{nil, 6},
	} {
		if got := f.Sum("instancehub_http_requests_total", want.labels); got != want.value {
			t.Errorf("instancehub_http_requests_total%v = %v, want %v", want.labels, got, want.value)
		}
	}
	if got := f.Sum("instancehub_http_request_duration_seconds", map[string]string{"route": "/login"}); got != 1 {
		t.Errorf("/login's durations: %v, want 1", got)
	}
	for _, route := range f.Values("instancehub_http_requests_total", "route") {
		if route != "/instances/:name" && route != "/instances/:name/row" && route != "/login" && route != web.UnmatchedRoute {
			t.Errorf("route label %q", route)
		}
	}
}

// TestQuotaIsReadOncePerInterval: quota is read when scraped, at most once
// per QuotaEvery by the metrics' clock; a failed reading serves the last
// figures and counts the error.
func TestQuotaIsReadOncePerInterval(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	m := metrics.New(metrics.Options{Replica: "a", Now: func() time.Time { return now }})
	reads, fail := 0, false
	m.WatchQuota(func(context.Context) (map[string][]instancehub.QuotaRow, error) {
		reads++
		if fail {
			return nil, errors.New("Azure is not answering")
		}
		return map[string][]instancehub.QuotaRow{"eastus": {
			{Name: "cores", WorkspaceUsed: 4, WorkspaceLimit: -1, SubscriptionUsed: 6, SubscriptionLimit: 100},
			{Name: "standardDSv2Family", WorkspaceUsed: 4, WorkspaceLimit: 8, SubscriptionUsed: 6, SubscriptionLimit: 40},
		}}, nil
	})
	used := func(f promtest.Figures, family, level string) float64 {
		return f.Sum("instancehub_quota_vcpus_used", map[string]string{"region": "eastus", "family": family, "level": level})
	}
	f := promtest.Scrape(t, m.Handler())
	promtest.Scrape(t, m.Handler())
	if reads != 1 || used(f, "cores", "subscription") != 6 || used(f, "standardDSv2Family", "workspace") != 4 {
		t.Errorf("%d readings, cores %v, DSv2 %v", reads, used(f, "cores", "subscription"), used(f, "standardDSv2Family", "workspace"))
	}
	limits := f.Values("instancehub_quota_vcpus_limit", "level")
	if len(limits) != 3 { // the subscription's two, the workspace's one for DSv2
		t.Errorf("limits at levels %v, want subscription twice and workspace once", limits)
	}
	now = now.Add(metrics.QuotaEvery)
	fail = true
	f = promtest.Scrape(t, m.Handler())
	if reads != 2 || used(f, "cores", "subscription") != 6 || f.Sum("instancehub_quota_read_errors_total", nil) != 1 {
		t.Errorf("%d readings, cores %v, errors %v; want the last figures served and the error counted",
			reads, used(f, "cores", "subscription"), f.Sum("instancehub_quota_read_errors_total", nil))
	}
	promtest.Scrape(t, m.Handler())
	if reads != 2 {
		t.Errorf("%d readings: a failure too waits for the next interval", reads)
	}
}

// TestLabelsFromOutsideAreBounded: Azure's codes and policy names become
// labels, and past a hundred distinct values a label counts the rest as
// "other".
func TestLabelsFromOutsideAreBounded(t *testing.T) {
	m := metrics.New(metrics.Options{Replica: "a"})
	for i := range 250 {
		m.ARMBudget(fmt.Sprintf("Microsoft.Compute/Policy%d", i), i)
		m.OperationEnded(&instancehub.Operation{Kind: instancehub.OpStart, Trigger: instancehub.TriggerUser,
			Status: instancehub.StatusFailed, ErrorCode: fmt.Sprintf("Code%d", i)})
	}
	f := promtest.Scrape(t, m.Handler())
	if n := len(f.Values("instancehub_arm_ratelimit_remaining", "budget")); n != 101 {
		t.Errorf("%d budgets, want 100 and other", n)
	}
	if n := len(f.Values("instancehub_operations_failed_total", "code")); n != 101 {
		t.Errorf("%d codes, want 100 and other", n)
	}
	if got := f.Sum("instancehub_operations_failed_total", map[string]string{"code": metrics.Other}); got != 150 {
		t.Errorf("other: %v, want 150", got)
	}
}

// BenchmarkRequest is what the figures add to each of the portal's
// requests: a request counted, and its duration.
func BenchmarkRequest(b *testing.B) {
	m := metrics.New(metrics.Options{Replica: "bench"})
	for b.Loop() {
		m.Request("/instances", http.MethodGet, http.StatusOK, 70*time.Microsecond)
	}
}

// BenchmarkQuery is what the figures add to each statement of the store.
func BenchmarkQuery(b *testing.B) {
	m := metrics.New(metrics.Options{Replica: "bench"})
	for b.Loop() {
		m.Query("read", 20*time.Microsecond, nil)
	}
}
