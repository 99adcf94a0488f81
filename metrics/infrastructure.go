package metrics

import (
	"database/sql"
	"strconv"
	"time"

	"github.com/instancehub/instancehub"
	"github.com/prometheus/client_golang/prometheus"
)

var (
	armBuckets     = []float64{.025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120}
	queryBuckets   = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}
	jupyterBuckets = []float64{.25, .5, 1, 2, 3, 5, 10, 20, 30, 60}
)

func (m *Metrics) infrastructure() {
	m.armRequests = m.counters("instancehub_arm_requests_total",
		"Requests sent to Azure Resource Manager, each try apart, by operation (method and resource type, such as PUT Microsoft.Compute/virtualMachines) and status code (error: no answer).",
		"operation", "code")
	m.armDuration = m.histograms("instancehub_arm_request_duration_seconds",
		"How long Azure Resource Manager took to answer, by operation.", armBuckets, "operation")
	m.armThrottled = m.counters("instancehub_arm_throttled_total",
		"Requests Azure Resource Manager refused with 429 Too Many Requests, by operation.", "operation")
	m.armRemaining = m.gauges("instancehub_arm_ratelimit_remaining",
		"What Azure Resource Manager last said is left of a throttling budget: subscription-reads, subscription-writes, subscription-deletes (x-ms-ratelimit-remaining-subscription-*), and each of Compute's policies (x-ms-ratelimit-remaining-resource, such as Microsoft.Compute/HighCostGet3Min).",
		"budget")
	m.armWaited = m.counters("instancehub_arm_wait_seconds_total",
		"Time operations' steps waited before asking Azure again, by reason: throttled (a 429, or a resource locked by another operation) or budget (the subscription's write or delete budget ran low).",
		"reason")

	m.queryDuration = m.histograms("instancehub_db_query_duration_seconds",
		"How long the database took, by kind: read and write (one statement), transaction (from its begin, the write lock's wait included, to its commit).",
		queryBuckets, "kind")
	m.queryErrors = m.counters("instancehub_db_query_errors_total", "Database statements and transactions that failed, by kind.", "kind")
	m.diskFull = m.counter("instancehub_db_disk_full_total",
		"Database writes that found no room: the disk holding the database is full (or PostgreSQL's).")

	m.gatewaySessions = m.gauge("instancehub_gateway_sessions_open",
		"Sign-ins to an application (a browser's session with one application of one instance) with a request or WebSocket open now.")
	m.gatewayConns = m.gauge("instancehub_gateway_connections_open",
		"Requests to the applications being proxied now, WebSockets included.")
	m.gatewaySockets = m.gauge("instancehub_gateway_websockets_open", "WebSockets to the applications open now.")
	m.streamsOpen = m.gauge("instancehub_streams_open",
		"Pages listening for changes of instances now (streams of Server-Sent Events at /events).")
	m.gatewayBytes = m.counters("instancehub_gateway_bytes_total",
		"Bytes the gateway carried, by direction: to_application (requests' bodies, WebSocket frames from the browser) and to_browser.", "direction")
	m.jupyterStart = m.histograms("instancehub_jupyter_start_seconds",
		"How long the offline emulator's Jupyter servers took to answer after being started, by result (ok, error).", jupyterBuckets, "result")
}

// ARMRequest implements azure.Metrics.
func (m *Metrics) ARMRequest(operation string, status int, took time.Duration) {
	op := m.armOperations.of(operation)
	code := "error"
	if status > 0 {
		code = strconv.Itoa(status)
	}
	m.armRequests.WithLabelValues(op, code).Inc()
	m.armDuration.WithLabelValues(op).Observe(seconds(took))
	if status == 429 {
		m.armThrottled.WithLabelValues(op).Inc()
	}
}

// ARMBudget implements azure.Metrics.
func (m *Metrics) ARMBudget(budget string, left int) {
	m.armRemaining.WithLabelValues(m.budgets.of(budget)).Set(float64(left))
}

// ARMWaited implements azure.Metrics.
func (m *Metrics) ARMWaited(reason string, d time.Duration) {
	m.armWaited.WithLabelValues(reason).Add(seconds(d))
}

// Query implements store.Metrics.
func (m *Metrics) Query(kind string, took time.Duration, err error) {
	m.queryDuration.WithLabelValues(kind).Observe(seconds(took))
	if err != nil {
		m.queryErrors.WithLabelValues(kind).Inc()
	}
	if instancehub.ErrorCode(err) == instancehub.EFULL {
		m.diskFull.Inc()
	}
}

// Proxying implements apps.Metrics.
func (m *Metrics) Proxying(websocket bool, delta int) {
	m.gatewayConns.Add(float64(delta))
	if websocket {
		m.gatewaySockets.Add(float64(delta))
	}
}

// SessionsOpen implements apps.Metrics.
func (m *Metrics) SessionsOpen(n int) { m.gatewaySessions.Set(float64(n)) }

// StreamsOpen is told the number of pages listening for changes (the
// events hub's Open).
func (m *Metrics) StreamsOpen(n int) { m.streamsOpen.Set(float64(n)) }

// Proxied implements apps.Metrics.
func (m *Metrics) Proxied(toApplication bool, n int) {
	direction := "to_browser"
	if toApplication {
		direction = "to_application"
	}
	m.gatewayBytes.WithLabelValues(direction).Add(float64(n))
}

// JupyterStarted implements localapps.Metrics.
func (m *Metrics) JupyterStarted(took time.Duration, err error) {
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.jupyterStart.WithLabelValues(result).Observe(seconds(took))
}

// WatchDatabase reads the database's connection pool when scraped.
func (m *Metrics) WatchDatabase(stats func() sql.DBStats) {
	read := func(f func(s sql.DBStats) float64) func() float64 { return func() float64 { return f(stats()) } }
	m.register([]string{"instancehub_db_connections_max", "instancehub_db_connections_in_use", "instancehub_db_connections_idle",
		"instancehub_db_connection_waits_total", "instancehub_db_connection_wait_seconds_total"},
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "instancehub_db_connections_max",
			Help: "The most connections the database's pool opens (0: no bound)."},
			read(func(s sql.DBStats) float64 { return float64(s.MaxOpenConnections) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "instancehub_db_connections_in_use",
			Help: "Connections of the database's pool in use now."},
			read(func(s sql.DBStats) float64 { return float64(s.InUse) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "instancehub_db_connections_idle",
			Help: "Connections of the database's pool open and idle now."},
			read(func(s sql.DBStats) float64 { return float64(s.Idle) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "instancehub_db_connection_waits_total",
			Help: "Times a query waited for a connection of the pool, all in use."},
			read(func(s sql.DBStats) float64 { return float64(s.WaitCount) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "instancehub_db_connection_wait_seconds_total",
			Help: "Time queries waited for a connection of the pool."},
			read(func(s sql.DBStats) float64 { return s.WaitDuration.Seconds() })),
	)
}

// WatchSandboxes reads how many of the offline emulator's Jupyter servers
// run, each in its sandbox, when scraped.
func (m *Metrics) WatchSandboxes(running func() int) {
	m.register([]string{"instancehub_offline_sandboxes_running"}, prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "instancehub_offline_sandboxes_running",
		Help: "The offline emulator's Jupyter servers running now, each in the sandbox of its instance."},
		func() float64 { return float64(running()) }))
}
