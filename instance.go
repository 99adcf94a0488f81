package instancehub

import (
	"fmt"
	"strings"
	"time"
)

// Instance is one data scientist's cloud workstation: an Azure virtual
// machine with Jupyter, JupyterLab and RStudio.
type Instance struct {
	ID     int64
	Name   string
	Region string

	// The size is fixed at creation; its family and vCPUs are kept so quota
	// can be counted without asking Azure.
	VMSize    string
	Family    string
	VCPUs     int
	MemoryGiB float64
	GPUs      int

	SSHEnabled   bool
	SSHPublicKey string
	SSHPort      int

	VirtualNetwork string
	Subnet         string

	// Description and Tags are what its creator wrote about it; Identity
	// is the managed identity its VM has.
	Description string
	Tags        map[string]string
	Identity    ManagedIdentity
	// IdempotencyKey is the Idempotency-Key its create came with, unique
	// per creator; Replayed is set, not stored, when a retried create
	// returns the instance the first one made.
	IdempotencyKey string
	Replayed       bool

	State     State
	PrivateIP string
	PublicIP  string
	// Image is what the VM was made from, version included, once Azure says.
	Image string
	// AppSecret is the instance's own upstream secret, made at create: the
	// applications on the VM (the Jupyter token) accept only the portal,
	// which holds it. Never shown in a page or written to the audit log.
	AppSecret string

	// OwnerID is the user the instance belongs to: its creator, or the user
	// it was created for. Only the owner may open its applications.
	OwnerID       int64
	OwnerName     string
	OwnerEmail    string
	CreatedByID   int64
	CreatedByName string
	CreatedAt     time.Time
	UpdatedAt     time.Time
	// Version counts the instance's changes; the sync applies what Azure
	// says only to the version it compared.
	Version int64

	// LastActivity is the last time the gateway saw a person use the
	// instance's applications, written at most once a minute; zero for never.
	LastActivity time.Time
	// IdleShutdown is how long the instance may go without activity before
	// the portal stops it; 0 for never. IdleChangedAt is when it was last
	// set, which restarts the idle clock.
	IdleShutdown  time.Duration
	IdleChangedAt time.Time
	// KeepRunningUntil holds automatic stops back: its owner postponed the
	// one announced.
	KeepRunningUntil time.Time
	// AutoStop is the automatic stop due within NoticeBefore, if any, set
	// by the service; it is not stored.
	AutoStop *AutoStop

	// LastOperation is the newest operation on the instance, if any.
	LastOperation *Operation

	// Access is what the signed-in user may do with the instance, set by
	// the service; it is not stored.
	Access Access
}

// SSHUser is the Linux account a user signs in with over SSH.
const SSHUser = "azureuser"

// SSHCommand is the ready-to-copy command that opens a shell on the instance,
// or "" while it has no address or SSH is off.
func (i *Instance) SSHCommand() string {
	if !i.SSHEnabled {
		return ""
	}
	host := i.PublicIP
	if host == "" {
		host = i.PrivateIP
	}
	if host == "" {
		return ""
	}
	return fmt.Sprintf("ssh -p %d %s@%s", i.SSHPort, SSHUser, host)
}

// Application is a web application that runs on every instance.
type Application struct {
	Slug  string // used in URLs
	Label string
}

// Applications lists the applications of an instance, in the order the list
// shows them.
var Applications = []Application{
	{Slug: "jupyterlab", Label: "JupyterLab"},
	{Slug: "jupyter", Label: "Jupyter"},
	{Slug: "rstudio", Label: "RStudio"},
	{Slug: "terminal", Label: "Terminal"},
}

// FindApplication returns the application with the given slug.
func FindApplication(slug string) (Application, bool) {
	for _, app := range Applications {
		if app.Slug == strings.ToLower(slug) {
			return app, true
		}
	}
	return Application{}, false
}

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

	// LeaseOwner is the portal driving the operation, until LeaseUntil
	// unless it renews (Engine); "" leaves it to whichever portal claims it.
	LeaseOwner string
	LeaseUntil time.Time

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
