package metrics

import (
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/instancehub/instancehub"
)

// TestDocsNameTheFigures: the alert rules and the Grafana dashboard in
// docs/metrics use only figures the portal serves, and the dashboard shows
// every one of them.
func TestDocsNameTheFigures(t *testing.T) {
	m := New(Options{Replica: "a"})
	m.WatchDatabase(func() sql.DBStats { return sql.DBStats{} })
	m.WatchSandboxes(func() int { return 0 })
	m.WatchQuota(func(context.Context) (map[string][]instancehub.QuotaRow, error) { return nil, nil })
	name := regexp.MustCompile(`\binstancehub_[a-z_]+`)
	served := func(n string) bool {
		for _, suffix := range []string{"", "_bucket", "_count", "_sum"} {
			if base, ok := strings.CutSuffix(n, suffix); ok && m.names[base] {
				return true
			}
		}
		return false
	}
	dashboard, err := os.ReadFile("../docs/metrics/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var parsed struct{ Panels []json.RawMessage }
	if err := json.Unmarshal(dashboard, &parsed); err != nil || len(parsed.Panels) == 0 {
		t.Fatalf("the dashboard is not Grafana's JSON: %v", err)
	}
	for _, file := range []string{"alerts.yml", "alerts_test.yml", "grafana-dashboard.json"} {
		text, err := os.ReadFile("../docs/metrics/" + file)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range name.FindAllString(string(text), -1) {
			if !served(n) {
				t.Errorf("%s names %s, which the portal does not serve", file, n)
			}
		}
	}
	shown := name.FindAllString(string(dashboard), -1)
	for n := range m.names {
		if !slices.ContainsFunc(shown, func(s string) bool { return s == n || strings.HasPrefix(s, n+"_") }) {
			t.Errorf("the dashboard does not show %s", n)
		}
	}
}
