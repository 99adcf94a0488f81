package web_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/instancehub/instancehub/azure/emulator"
	"github.com/instancehub/instancehub/internal/testportal"
	"github.com/instancehub/instancehub/metrics"
	"github.com/instancehub/instancehub/static"
	"github.com/instancehub/instancehub/web"
)

// BenchmarkListPageMetrics is BenchmarkListPage1000 without the portal's
// figures and with them (the web server's and the store's, as serve wires
// them): what metrics cost the list page.
func BenchmarkListPageMetrics(b *testing.B) {
	for _, withMetrics := range []bool{false, true} {
		name := "without"
		if withMetrics {
			name = "with"
		}
		b.Run(name, func(b *testing.B) {
			p := testportal.OpenWith(b, b.TempDir(), emulator.Options{})
			p.Seed(b, "load", 1000, p.User)
			cfg := web.Config{Static: static.FS, LocalAccounts: true}
			if withMetrics {
				m := metrics.New(metrics.Options{Replica: "bench"})
				p.DB.Metrics, cfg.Metrics = m, m
				m.WatchDatabase(p.DB.Stats)
			}
			server := httptest.NewServer(web.New(cfg, p.Service).Handler())
			defer server.Close()
			s := &site{Portal: p, server: server, client: newClient()}
			signIn(b, s, "ada@example.com")
			for b.Loop() {
				resp, err := s.client.Get(server.URL + "/instances?page=3")
				if err != nil {
					b.Fatal(err)
				}
				n, _ := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || n < 50_000 {
					b.Fatalf("status %d, %d bytes", resp.StatusCode, n)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
}
