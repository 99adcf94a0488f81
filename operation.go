package instancehub

import (
	"context"
	"time"
)

// Operation is one action on an instance, carried out by Azure in one or more
// steps. It is recorded as InProgress before Azure is called, keeps the
// resume token of the step under way, so that it survives a restart, and ends
// Succeeded or Failed with Azure's error.
type Operation struct {
	ID           int64
	InstanceID   int64
	InstanceName string
	Kind         OperationKind
	Status       OperationStatus
	Trigger      Trigger
	// Rule names the schedule or idle rule that started an automatic
	// operation; "" for a user's.
	Rule     string
	UserID   int64
	UserName string

	// Step is the Azure step under way ("network interface"); ResumeToken
	// is its poller's token, "" until Azure accepted the step.
	Step        string
	ResumeToken string

	ErrorCode    string
	ErrorMessage string

	StartedAt  time.Time
	FinishedAt time.Time

	// LeaseOwner is the portal driving the operation, for LeaseFor from
	// when it is recorded (by the database's clock) unless it renews
	// (Engine); "" leaves it to whichever portal claims it.
	LeaseOwner string
	LeaseFor   time.Duration

	// RequestID names the request that started the operation ("" for the
	// portal's own: a schedule, idle shutdown): each line the operation
	// logs names it, on whichever portal drives it.
	RequestID string

	// AppSecret, when set, is the instance's new application secret, which
	// BeginOperation stores on the instance with the operation: a Start
	// gives the instance a new one and the cloud delivers it to the VM, so
	// a Start resumed after a restart delivers the one recorded. Never read
	// back from the operation.
	AppSecret string
}

// StatusLabel is the status the reference product shows: InProgress,
// Succeeded, or <Op>Failed.
func (o *Operation) StatusLabel() string {
	if o.Status == StatusFailed {
		return string(o.Kind) + "Failed"
	}
	return string(o.Status)
}

// Actor says who started the operation: the user, or the portal with the
// rule that made it act.
func (o *Operation) Actor() string {
	switch {
	case o.UserName != "":
		return o.UserName
	case o.Rule != "":
		return "Portal (" + o.Rule + ")"
	case o.Trigger != TriggerUser && o.Trigger != "":
		return "Portal"
	}
	return ""
}

// Duration is how long the operation took, or has taken so far.
func (o *Operation) Duration(now time.Time) time.Duration {
	end := o.FinishedAt
	if end.IsZero() {
		end = now
	}
	return end.Sub(o.StartedAt).Round(time.Second)
}

// Operations carries operations out: it records each before it calls
// Azure, follows it step by step in the background, and resumes what a
// restart left in flight (the engine package's Engine). It also keeps the
// store in step with Azure.
type Operations interface {
	// Create records inst, in state Creating, with its Create operation,
	// and starts it. ECONFLICT when a live instance has its name, EQUOTA
	// when it would pass a workspace limit.
	Create(ctx context.Context, inst *Instance, trigger Trigger) (*Operation, error)
	// Submit records a Start, Stop, Restart or Delete of inst and starts
	// it. ECONFLICT when the instance's state does not allow it.
	Submit(ctx context.Context, inst *Instance, kind OperationKind, trigger Trigger) (*Operation, error)
	// SubmitAutomatic is Submit for an operation the portal starts by
	// itself: rule names the schedule or idle rule that started it.
	SubmitAutomatic(ctx context.Context, inst *Instance, kind OperationKind, trigger Trigger, rule string) (*Operation, error)
	// Sync reconciles the store with Azure, sharing a sync in progress or
	// one just ended. ETHROTTLED while Azure's read budget is low.
	Sync(ctx context.Context) (SyncReport, error)
}

// MaxBulk is how many instances one bulk action takes: a page of the list.
const MaxBulk = PageSize

// BulkResult is what a bulk action did: the instances it started the
// action on, and those it did not, each with the reason.
type BulkResult struct {
	Kind    OperationKind
	Done    []string
	Refused []BulkRefusal
}

// BulkRefusal is an instance a bulk action left alone, and why.
type BulkRefusal struct {
	Name   string
	Reason string
}

// SyncReport says what a sync found.
type SyncReport struct {
	Checked int // instances compared with Azure
	Changed int // instances whose state changed
	Missing int // instances whose VM was gone
	Adopted int // VMs of the portal no instance recorded, adopted
}

// SyncLease is the name of the lease of the background sync.
const SyncLease = "sync"
