package metrics

import (
	"strconv"
	"strings"
	"time"

	"github.com/instancehub/instancehub"
)

// The buckets of each kind of wait, in seconds.
var (
	requestBuckets   = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}
	operationBuckets = []float64{1, 5, 10, 30, 60, 120, 180, 300, 600, 1200, 1800, 3600}
	syncBuckets      = []float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120}
)

func (m *Metrics) portal() {
	m.requests = m.counters("instancehub_http_requests_total",
		"Requests the portal answered, by route (its pattern, never the path asked; unmatched for none), method and status code (499: the client left first).",
		"route", "method", "code")
	m.requestDuration = m.histograms("instancehub_http_request_duration_seconds",
		"How long the portal took to answer, by route and method.", requestBuckets, "route", "method")

	m.opsStarted = m.counters("instancehub_operations_started_total",
		"Operations on instances recorded by this replica, by kind (Create, Start, Stop, Restart, Delete) and trigger (User, Schedule, IdleShutdown).",
		"kind", "trigger")
	m.opsFinished = m.counters("instancehub_operations_finished_total",
		"Operations whose outcome this replica recorded, by kind, trigger and status (Succeeded, Failed).", "kind", "trigger", "status")
	m.opsFailed = m.counters("instancehub_operations_failed_total",
		"Operations that failed, by kind, trigger and error code (Azure's, such as OperationNotAllowed, else the portal's, such as ETHROTTLED).",
		"kind", "trigger", "code")
	m.opDuration = m.histograms("instancehub_operation_duration_seconds",
		"How long operations took from being recorded to their outcome, by kind and status.", operationBuckets, "kind", "status")
	m.opsInFlight = m.gauges("instancehub_operations_in_flight",
		"Operations this replica drives now, by kind; summed over the replicas, every operation in progress.", "kind")
	m.leasesHeld = m.gauges("instancehub_leases_held",
		"Leases this replica holds: operation (one per operation it drives) and sync (the background sync's, on a shared database).", "lease")
	m.takenOver = m.counter("instancehub_leases_taken_over_total",
		"Operations this replica took over: their leases had lapsed (another replica died), or it found them in progress at start alone on its database.")
	m.lost = m.counter("instancehub_leases_lost_total",
		"Operations another replica took over from this one (it held their leases too long without renewing them).")
	m.syncDuration = m.histograms("instancehub_sync_duration_seconds",
		"How long each sync of the database with Azure took, by result (ok, error).", syncBuckets, "result")
	m.syncDrift = m.counters("instancehub_sync_drift_total",
		"Instances a sync found changed outside the portal, by what it found: changed (a power state changed in Azure), missing (the VM is gone) and adopted (a VM of the portal no record named, as after a restore).",
		"found")
	m.syncLastSuccess = m.gauge("instancehub_sync_last_success_timestamp_seconds",
		"When this replica's last sync with Azure that succeeded ended, as a Unix time.")

	m.signInFailures = m.counters("instancehub_signin_failures_total",
		"Sign-ins refused, by method (password, single_sign_on) and result: denied (wrong email or password, an unusable identity) or failed (too many attempts, an error).",
		"method", "result")
	m.refusals = m.counters("instancehub_refusals_tallied_total",
		"Refusals and failures the audit log tallies, one row per minute, action, result, user and source, by action and result (denied, failed).",
		"action", "result")
}

// Request implements web.Metrics.
func (m *Metrics) Request(route, method string, status int, took time.Duration) {
	if status == 0 {
		status = 499
	}
	m.requests.WithLabelValues(route, method, statusCode(status)).Inc()
	m.requestDuration.WithLabelValues(route, method).Observe(seconds(took))
}

// statusCodes are the codes' labels, made once: a request's costs nothing.
var statusCodes = func() (codes [600]string) {
	for i := range codes {
		codes[i] = strconv.Itoa(i)
	}
	return codes
}()

func statusCode(status int) string {
	if status >= 0 && status < len(statusCodes) {
		return statusCodes[status]
	}
	return strconv.Itoa(status)
}

// OperationStarted implements instancehub.EngineMetrics.
func (m *Metrics) OperationStarted(kind instancehub.OperationKind, trigger instancehub.Trigger) {
	m.opsStarted.WithLabelValues(string(kind), string(trigger)).Inc()
}

// OperationEnded implements instancehub.EngineMetrics.
func (m *Metrics) OperationEnded(op *instancehub.Operation) {
	kind, trigger, status := string(op.Kind), string(op.Trigger), string(op.Status)
	m.opsFinished.WithLabelValues(kind, trigger, status).Inc()
	if op.Status == instancehub.StatusFailed {
		m.opsFailed.WithLabelValues(kind, trigger, m.errorCodes.of(op.ErrorCode)).Inc()
	}
	if !op.FinishedAt.IsZero() && !op.StartedAt.IsZero() {
		m.opDuration.WithLabelValues(kind, status).Observe(seconds(op.FinishedAt.Sub(op.StartedAt)))
	}
}

// OperationsDriven implements instancehub.EngineMetrics.
func (m *Metrics) OperationsDriven(kind instancehub.OperationKind, delta int) {
	m.opsInFlight.WithLabelValues(string(kind)).Add(float64(delta))
	m.leasesHeld.WithLabelValues("operation").Add(float64(delta))
}

// OperationsTakenOver implements instancehub.EngineMetrics.
func (m *Metrics) OperationsTakenOver(n int) { m.takenOver.Add(float64(n)) }

// OperationLost implements instancehub.EngineMetrics.
func (m *Metrics) OperationLost() { m.lost.Inc() }

// SyncLeaseHeld implements instancehub.EngineMetrics.
func (m *Metrics) SyncLeaseHeld(held bool) {
	v := 0.0
	if held {
		v = 1
	}
	m.leasesHeld.WithLabelValues(instancehub.SyncLease).Set(v)
}

// SyncEnded implements instancehub.EngineMetrics.
func (m *Metrics) SyncEnded(report instancehub.SyncReport, took time.Duration, err error) {
	result := "ok"
	if err != nil {
		result = "error"
	} else {
		m.syncLastSuccess.Set(float64(m.now().UnixMilli()) / 1000)
	}
	m.syncDuration.WithLabelValues(result).Observe(seconds(took))
	m.syncDrift.WithLabelValues("changed").Add(float64(report.Changed - report.Missing))
	m.syncDrift.WithLabelValues("missing").Add(float64(report.Missing))
	m.syncDrift.WithLabelValues("adopted").Add(float64(report.Adopted))
}

// signIn is the audit log's action of a sign-in; the target of one made
// with single sign-on says so (an email has no space).
const (
	signIn          = "session.signIn"
	singleSignOnTag = "single sign-on"
)

// Audited implements instancehub.ServiceMetrics.
func (m *Metrics) Audited(e *instancehub.AuditEvent, tallied bool) {
	if e.Action == signIn && e.Result != instancehub.AuditSucceeded {
		method := "password"
		if strings.Contains(e.Target, singleSignOnTag) {
			method = "single_sign_on"
		}
		m.signInFailures.WithLabelValues(method, e.Result).Inc()
	}
	if tallied {
		m.refusals.WithLabelValues(m.actions.of(e.Action), e.Result).Inc()
	}
}
