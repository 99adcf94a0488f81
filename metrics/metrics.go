// Package metrics keeps the portal's figures for Prometheus, with its
// official Go client: what the web server, the engine, the service, the
// Azure clients, the database, the applications gateway and the offline
// Jupyter servers tell it through the small interfaces each of them
// declares, which Metrics implements (cmd wires it), and what it reads from
// them when scraped (quota, the database's pool, the sandboxes running).
//
// Every label is bounded, whatever clients or Azure send: routes are the
// patterns of the portal's routes, never paths; no label holds an
// instance's name or a person's email; and each label fed by text from
// outside keeps at most maxValues distinct values, the rest counted as
// "other".
package metrics

import (
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds the portal's figures. The zero value is not usable: call New.
type Metrics struct {
	reg *prometheus.Registry
	now func() time.Time

	requests        *prometheus.CounterVec
	requestDuration *prometheus.HistogramVec

	opsStarted, opsFinished, opsFailed *prometheus.CounterVec
	opDuration                         *prometheus.HistogramVec
	opsInFlight                        *prometheus.GaugeVec
	leasesHeld                         *prometheus.GaugeVec
	takenOver, lost                    prometheus.Counter
	syncDuration                       *prometheus.HistogramVec
	syncDrift                          *prometheus.CounterVec
	syncLastSuccess                    prometheus.Gauge

	signInFailures, refusals *prometheus.CounterVec

	armRequests, armThrottled, armWaited *prometheus.CounterVec
	armDuration                          *prometheus.HistogramVec
	armRemaining                         *prometheus.GaugeVec

	queryDuration *prometheus.HistogramVec
	queryErrors   *prometheus.CounterVec
	diskFull      prometheus.Counter

	gatewaySessions, gatewayConns, gatewaySockets prometheus.Gauge
	streamsOpen                                   prometheus.Gauge
	gatewayBytes                                  *prometheus.CounterVec
	jupyterStart                                  *prometheus.HistogramVec

	// The labels fed by text from outside, each bounded.
	errorCodes, actions, armOperations, budgets label

	// names are the names of the portal's own figures.
	names map[string]bool
}

// Options configures New.
type Options struct {
	// Replica names this portal among those sharing a database: the
	// replica label of instancehub_replica_info.
	Replica string
	// Now is the clock of the figures read when scraped (how long quota
	// is kept) and of the last sync's time; time.Now when nil.
	Now func() time.Time
}

// maxValues bounds the distinct values of a label fed by text from outside.
const maxValues = 100

// Other stands for the values of a label past its bound.
const Other = "other"

// New returns the portal's figures, with Go's and the process's own.
func New(o Options) *Metrics {
	if o.Now == nil {
		o.Now = time.Now
	}
	m := &Metrics{reg: prometheus.NewRegistry(), now: o.Now, names: map[string]bool{}}
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	info := m.gauges("instancehub_replica_info", "The portal process serving these figures: its replica name, as its log and its leases say it.", "replica")
	info.WithLabelValues(o.Replica).Set(1)
	m.portal()
	m.infrastructure()
	return m
}

// Handler serves the figures in Prometheus's text format (or OpenMetrics,
// when asked), with promhttp's own counts of the scrapes.
func (m *Metrics) Handler() http.Handler {
	return promhttp.InstrumentMetricHandler(m.reg, promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg}))
}

// register adds collectors of figures read when scraped, named names.
func (m *Metrics) register(names []string, cs ...prometheus.Collector) {
	for _, n := range names {
		m.names[n] = true
	}
	m.reg.MustRegister(cs...)
}

func (m *Metrics) counters(name, help string, labels ...string) *prometheus.CounterVec {
	m.names[name] = true
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	m.reg.MustRegister(c)
	return c
}

func (m *Metrics) counter(name, help string) prometheus.Counter {
	m.names[name] = true
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	m.reg.MustRegister(c)
	return c
}

func (m *Metrics) gauges(name, help string, labels ...string) *prometheus.GaugeVec {
	m.names[name] = true
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
	m.reg.MustRegister(g)
	return g
}

func (m *Metrics) gauge(name, help string) prometheus.Gauge {
	m.names[name] = true
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
	m.reg.MustRegister(g)
	return g
}

func (m *Metrics) histograms(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	m.names[name] = true
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, labels)
	m.reg.MustRegister(h)
	return h
}

// label keeps the distinct values of one label within maxValues: a value
// first seen past that bound is counted as Other, so that nothing sent from
// outside (Azure's error codes, a header's policy names) grows the series
// without end.
type label struct {
	mu   sync.Mutex
	seen map[string]bool
}

// maxLabelLength cuts a value: Azure's codes, its throttling policies and
// the types along a request's path (operationOf) are far shorter.
const maxLabelLength = 128

func (l *label) of(v string) string {
	if len(v) > maxLabelLength {
		v = v[:maxLabelLength]
	}
	v = strings.ToValidUTF8(v, "")
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seen[v] {
		return v
	}
	if len(l.seen) >= maxValues {
		return Other
	}
	if l.seen == nil {
		l.seen = map[string]bool{}
	}
	l.seen[v] = true
	return v
}

// seconds is a duration as Prometheus counts time.
func seconds(d time.Duration) float64 { return d.Seconds() }
