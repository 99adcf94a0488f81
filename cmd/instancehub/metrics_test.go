//go:build linux

package main

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/internal/promtest"
	"github.com/instancehub/instancehub/web"
)

// TestMetricsOfARealPortal scrapes /metrics on the operator endpoints of a
// real portal process with Prometheus's own text parser: after a refused
// sign-in, a create through the form and a kernel run over the gateway,
// each figure counts what happened, and no label names the instance, the
// person or a path.
func TestMetricsOfARealPortal(t *testing.T) {
	realJupyter(t)
	p, owner, _ := startOwner(t, "--debug-addr", "127.0.0.1:0")
	found := regexp.MustCompile(`operator endpoints.* metrics=(http://\S+/metrics)`).FindStringSubmatch(p.logs.String())
	if found == nil {
		t.Fatalf("the metrics' address is not logged:\n%s", p.logs.String())
	}
	endpoint := found[1]
	if _, body := get(t, p.url+"/metrics"); strings.Contains(body, "# HELP") {
		t.Errorf("the portal's own address serves /metrics")
	}

	stranger := newPerson(t, p.url)
	if res, _ := stranger.do("POST", p.url+"/login", url.Values{"email": {"owner@example.com"}, "password": {"not the password"}}); res.StatusCode == http.StatusSeeOther {
		t.Fatal("a wrong password signed in")
	}
	owner.create("metrics-box")
	promtest.Await(t, func() promtest.Figures { return promtest.ScrapeURL(t, endpoint) },
		"instancehub_operations_finished_total", nil, 1)
	f := promtest.Await(t, func() promtest.Figures { return promtest.ScrapeURL(t, endpoint) }, "instancehub_operations_in_flight", nil, 0)

	for _, want := range []struct {
		name   string
		labels map[string]string
		value  float64
	}{
		{"instancehub_http_requests_total", map[string]string{"route": "/instances", "method": "POST", "code": "303"}, 1},
		{"instancehub_http_requests_total", map[string]string{"route": "/login", "method": "POST"}, 2},
		{"instancehub_signin_failures_total", map[string]string{"method": "password", "result": "denied"}, 1},
		{"instancehub_refusals_tallied_total", map[string]string{"action": "session.signIn", "result": "denied"}, 1},
		{"instancehub_operations_started_total", map[string]string{"kind": "Create", "trigger": "User"}, 1},
		{"instancehub_operations_finished_total", map[string]string{"kind": "Create", "trigger": "User", "status": "Succeeded"}, 1},
		{"instancehub_operations_failed_total", nil, 0},
		{"instancehub_operation_duration_seconds", map[string]string{"kind": "Create", "status": "Succeeded"}, 1},
		{"instancehub_operations_in_flight", nil, 0},
		{"instancehub_leases_held", map[string]string{"lease": "operation"}, 0},
		{"instancehub_leases_taken_over_total", nil, 0},
		{"instancehub_quota_vcpus_used", map[string]string{"region": "eastus", "family": "standardDSv2Family", "level": "workspace"}, 1},
		{"instancehub_quota_vcpus_used", map[string]string{"region": "eastus", "family": "standardDSv2Family", "level": "subscription"}, 1},
		{"instancehub_replica_info", nil, 1},
	} {
		if got := f.Sum(want.name, want.labels); got != want.value {
			t.Errorf("%s%v = %v, want %v", want.name, want.labels, got, want.value)
		}
	}
	for _, want := range []struct {
		name   string
		labels map[string]string
	}{
		{"instancehub_http_request_duration_seconds", map[string]string{"route": "/instances/:name/row", "method": "GET"}},
		{"instancehub_arm_requests_total", map[string]string{"operation": "PUT Microsoft.Compute/virtualMachines"}},
		{"instancehub_arm_requests_total", map[string]string{"operation": "PUT Microsoft.Network/networkInterfaces"}},
		{"instancehub_arm_request_duration_seconds", map[string]string{"operation": "PUT Microsoft.Compute/virtualMachines"}},
		{"instancehub_sync_duration_seconds", map[string]string{"result": "ok"}},
		{"instancehub_sync_last_success_timestamp_seconds", nil},
		{"instancehub_quota_vcpus_limit", map[string]string{"region": "eastus", "family": "cores", "level": "subscription"}},
		{"instancehub_db_query_duration_seconds", map[string]string{"kind": "transaction"}},
		{"instancehub_db_query_duration_seconds", map[string]string{"kind": "read"}},
		{"go_goroutines", nil},
	} {
		if got := f.Sum(want.name, want.labels); got <= 0 {
			t.Errorf("%s%v = %v, want more than 0", want.name, want.labels, got)
		}
	}

	if f["instancehub_db_connections_max"] == nil || f.Sum("instancehub_db_connections_idle", nil)+f.Sum("instancehub_db_connections_in_use", nil) < 1 {
		t.Errorf("the database's pool: max %v, idle %v, in use %v", f.Sum("instancehub_db_connections_max", nil),
			f.Sum("instancehub_db_connections_idle", nil), f.Sum("instancehub_db_connections_in_use", nil))
	}

	// The gateway and the sandbox: a kernel's WebSocket through the gateway.
	origin := owner.openApp("metrics-box", "jupyter")
	ws := owner.kernel(origin)
	if out, errName := execute(t, ws, "print(6*7)"); out != "42\n" || errName != "" {
		t.Fatalf("print(6*7) printed %q, raised %q", out, errName)
	}
	// The requests before the kernel's WebSocket have been answered; their
	// handlers may still be returning.
	f = promtest.Await(t, func() promtest.Figures { return promtest.ScrapeURL(t, endpoint) }, "instancehub_gateway_connections_open", nil, 1)
	for _, want := range []struct {
		name   string
		labels map[string]string
		value  float64
	}{
		{"instancehub_gateway_websockets_open", nil, 1},
		{"instancehub_gateway_connections_open", nil, 1},
		{"instancehub_gateway_sessions_open", nil, 1},
		{"instancehub_offline_sandboxes_running", nil, 1},
		{"instancehub_jupyter_start_seconds", map[string]string{"result": "ok"}, 1},
	} {
		if got := f.Sum(want.name, want.labels); got != want.value {
			t.Errorf("%s%v = %v, want %v", want.name, want.labels, got, want.value)
		}
	}
	for _, direction := range []string{"to_application", "to_browser"} {
		if got := f.Sum("instancehub_gateway_bytes_total", map[string]string{"direction": direction}); got < 100 {
			t.Errorf("instancehub_gateway_bytes_total{direction=%q} = %v, want the request's and the kernel's bytes", direction, got)
		}
	}
	ws.CloseNow()
	promtest.Await(t, func() promtest.Figures { return promtest.ScrapeURL(t, endpoint) }, "instancehub_gateway_websockets_open", nil, 0)

	// Nothing a person chose or typed is a label: no instance's name, no
	// email, no path (every route is one of the portal's patterns).
	patterns := map[string]bool{web.UnmatchedRoute: true}
	for _, r := range web.New(web.Config{}, &instancehub.Service{}).Routes() {
		_, pattern, _ := strings.Cut(r, " ")
		patterns[pattern] = true
	}
	for name, family := range promtest.ScrapeURL(t, endpoint) {
		for _, m := range family.Metric {
			for _, l := range m.Label {
				if v := l.GetValue(); strings.Contains(v, "metrics-box") || strings.Contains(v, "@") {
					t.Errorf("%s has the label %s=%q", name, l.GetName(), v)
				}
				if l.GetName() == "route" && !patterns[l.GetValue()] {
					t.Errorf("%s has the route %q, which is no route's pattern", name, l.GetValue())
				}
			}
		}
	}
}
