package metrics

import (
	"context"
	"sync"
	"time"

	"github.com/instancehub/instancehub"
	"github.com/prometheus/client_golang/prometheus"
)

// QuotaEvery is how long quota read for a scrape is kept: Azure's usage
// list is slow and spends the subscription's read budget, while Prometheus
// scrapes every 15 to 60 seconds.
const QuotaEvery = time.Minute

// quotaTimeout bounds the reading of quota within a scrape (Prometheus's
// default scrape timeout is 10 s): past it, the last figures are served.
const quotaTimeout = 5 * time.Second

// WatchQuota reads quota use, by region, when scraped, at most once per
// QuotaEvery: read is the service's QuotaUse.
func (m *Metrics) WatchQuota(read func(ctx context.Context) (map[string][]instancehub.QuotaRow, error)) {
	m.register([]string{"instancehub_quota_vcpus_used", "instancehub_quota_vcpus_limit", "instancehub_quota_read_errors_total"}, &quotaCollector{read: read, now: m.now,
		used:   prometheus.NewDesc("instancehub_quota_vcpus_used", "vCPUs in use, by region, family (or cores for the region's total) and level: subscription (Azure's count) or workspace (instances that hold quota).", []string{"region", "family", "level"}, nil),
		limit:  prometheus.NewDesc("instancehub_quota_vcpus_limit", "vCPU limits, by region, family and level: subscription (Azure's quota) or workspace (set by Owners; absent when none).", []string{"region", "family", "level"}, nil),
		errors: prometheus.NewCounter(prometheus.CounterOpts{Name: "instancehub_quota_read_errors_total", Help: "Times quota could not be read for a scrape (the last figures read were served)."}),
	})
}

// quotaCollector serves the quota read last, reading it again when it is
// older than QuotaEvery. Only families that say something are read (the
// service's QuotaUse), so the series stay a handful per region.
type quotaCollector struct {
	read        func(ctx context.Context) (map[string][]instancehub.QuotaRow, error)
	now         func() time.Time
	used, limit *prometheus.Desc
	errors      prometheus.Counter
	mu          sync.Mutex
	last        map[string][]instancehub.QuotaRow
	readAt      time.Time
}

func (c *quotaCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.used
	ch <- c.limit
	c.errors.Describe(ch)
}

func (c *quotaCollector) Collect(ch chan<- prometheus.Metric) {
	for region, rows := range c.quota() {
		for _, r := range rows {
			family := r.Name
			ch <- prometheus.MustNewConstMetric(c.used, prometheus.GaugeValue, float64(r.SubscriptionUsed), region, family, instancehub.LevelSubscription)
			ch <- prometheus.MustNewConstMetric(c.limit, prometheus.GaugeValue, float64(r.SubscriptionLimit), region, family, instancehub.LevelSubscription)
			ch <- prometheus.MustNewConstMetric(c.used, prometheus.GaugeValue, float64(r.WorkspaceUsed), region, family, instancehub.LevelWorkspace)
			if r.WorkspaceLimit >= 0 {
				ch <- prometheus.MustNewConstMetric(c.limit, prometheus.GaugeValue, float64(r.WorkspaceLimit), region, family, instancehub.LevelWorkspace)
			}
		}
	}
	c.errors.Collect(ch)
}

// quota returns the figures, read again when they are older than
// QuotaEvery; scrapes at once wait for one reading. After a failure the
// last figures are served until the next reading.
func (c *quotaCollector) quota() map[string][]instancehub.QuotaRow {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.readAt.IsZero() && c.now().Sub(c.readAt) < QuotaEvery {
		return c.last
	}
	ctx, cancel := context.WithTimeout(context.Background(), quotaTimeout)
	defer cancel()
	use, err := c.read(ctx)
	c.readAt = c.now() // a failure too waits its turn: Azure may be throttling
	if err != nil {
		c.errors.Inc()
		return c.last
	}
	c.last = use
	return use
}
