// Package promtest reads a portal's metrics in tests as Prometheus does,
// with its own text parser (github.com/prometheus/common/expfmt).
package promtest

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Figures are the metric families of one scrape, by name.
type Figures map[string]*dto.MetricFamily

// Scrape reads what h serves at /metrics.
func Scrape(t testing.TB, h http.Handler) Figures {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", rec.Code, rec.Body)
	}
	return parse(t, rec.Result())
}

// ScrapeURL reads what endpoint serves.
func ScrapeURL(t testing.TB, endpoint string) Figures {
	t.Helper()
	resp, err := http.Get(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", endpoint, resp.Status)
	}
	return parse(t, resp)
}

func parse(t testing.TB, resp *http.Response) Figures {
	t.Helper()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse the metrics: %v", err)
	}
	return families
}

// Sum adds up the series of name that have labels (and any others):
// counters' and gauges' values, histograms' counts of samples; 0 when
// there is none.
func (f Figures) Sum(name string, labels map[string]string) float64 {
	total := 0.0
	for _, m := range f[name].GetMetric() {
		if !hasLabels(m, labels) {
			continue
		}
		switch {
		case m.Counter != nil:
			total += m.Counter.GetValue()
		case m.Gauge != nil:
			total += m.Gauge.GetValue()
		case m.Histogram != nil:
			total += float64(m.Histogram.GetSampleCount())
		case m.Untyped != nil:
			total += m.Untyped.GetValue()
		}
	}
	return total
}

// Values lists the values label takes in the series of name.
func (f Figures) Values(name, label string) []string {
	var values []string
	for _, m := range f[name].GetMetric() {
		for _, l := range m.Label {
			if l.GetName() == label {
				values = append(values, l.GetValue())
			}
		}
	}
	return values
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	for name, value := range want {
		found := false
		for _, l := range m.Label {
			found = found || (l.GetName() == name && l.GetValue() == value)
		}
		if !found {
			return false
		}
	}
	return true
}

// Await scrapes until the series of name with labels add up to want, and
// returns those figures: a figure is told of what happened just after it
// was recorded (an operation's outcome is committed, then counted), so a
// test that saw it recorded waits for the count. It fails the test after
// 30 s.
func Await(t testing.TB, scrape func() Figures, name string, labels map[string]string, want float64) Figures {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		f := scrape()
		got := f.Sum(name, labels)
		if got == want {
			return f
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s%v = %v, want %v", name, labels, got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
