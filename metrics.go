package instancehub

import "time"

// EngineMetrics is told what the engine does, for an operator's dashboards
// (cmd gives it the Prometheus figures of the metrics package); an engine
// without one tells nobody. Its methods return at once and may be called
// from many goroutines together.
type EngineMetrics interface {
	// OperationStarted: an operation was recorded, in progress.
	OperationStarted(kind OperationKind, trigger Trigger)
	// OperationEnded: op's outcome was recorded: its Status, ErrorCode
	// (Azure's code, else the portal's), StartedAt and FinishedAt.
	OperationEnded(op *Operation)
	// OperationsDriven: this replica began (delta 1) or stopped (-1)
	// driving an operation of kind, whose lease it holds meanwhile.
	OperationsDriven(kind OperationKind, delta int)
	// OperationsTakenOver: this replica took over n operations in
	// progress: their leases had lapsed (another replica died), or, alone
	// on its database, they were left in progress by the last run.
	OperationsTakenOver(n int)
	// OperationLost: another replica took over an operation this one drove.
	OperationLost()
	// SyncLeaseHeld: whether this replica holds the background sync's lease.
	SyncLeaseHeld(held bool)
	// SyncEnded: a sync of the store with Azure took that long and found
	// report; err when it failed.
	SyncEnded(report SyncReport, took time.Duration, err error)
}

// ServiceMetrics is told what the service writes to the audit log, for an
// operator's dashboards: sign-in failures and refusals are counted from it.
type ServiceMetrics interface {
	// Audited: e was written to the audit log; tallied when it was counted
	// into a row of its minute (a refusal or a failure: e.Count says how
	// many that row holds now).
	Audited(e *AuditEvent, tallied bool)
}

// noMetrics tells nobody.
type noMetrics struct{}

func (noMetrics) OperationStarted(OperationKind, Trigger)    {}
func (noMetrics) OperationEnded(*Operation)                  {}
func (noMetrics) OperationsDriven(OperationKind, int)        {}
func (noMetrics) OperationsTakenOver(int)                    {}
func (noMetrics) OperationLost()                             {}
func (noMetrics) SyncLeaseHeld(bool)                         {}
func (noMetrics) SyncEnded(SyncReport, time.Duration, error) {}
func (noMetrics) Audited(*AuditEvent, bool)                  {}
