package instancehub

import (
	"crypto/rand"
	"encoding/base64"
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
	// Setup are the scripts it runs as root: at create and at each start.
	Setup SetupScripts

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
	// NextStop is the next automatic stop however far off (AutoStop is it
	// once it is due within NoticeBefore), set by the service with
	// AutoStop; it is not stored.
	NextStop *AutoStop

	// LastOperation is the newest operation on the instance, if any.
	LastOperation *Operation

	// Access is what the signed-in user may do with the instance, set by
	// the service; it is not stored.
	Access Access

	// OSImage is the image the VM was made from and the newest version of
	// it in the region, set by the service from Image and the cloud; nil
	// until Azure said which image the VM runs. It is not stored.
	OSImage *OSImage
}

// SSHUser is the Linux account a user signs in with over SSH.
const SSHUser = "azureuser"

// SSHKeyTimeout bounds how long adding an SSH key may take: Azure's VM
// access extension takes a minute or two.
const SSHKeyTimeout = 10 * time.Minute

// SSHCommand is the ready-to-copy command that opens a shell on the instance,
// or "" while it has no address or SSH is off.
func (i *Instance) SSHCommand() string {
	host := i.sshHost()
	if !i.SSHEnabled || host == "" {
		return ""
	}
	return fmt.Sprintf("ssh -p %d %s@%s", i.SSHPort, SSHUser, host)
}

// sshHost is the address SSH reaches the instance at: its public IP, or
// its private one in a network without; "" while it has neither.
func (i *Instance) sshHost() string {
	if i.PublicIP != "" {
		return i.PublicIP
	}
	return i.PrivateIP
}

// VSCodeDesktopURL opens VS Code's Remote - SSH on the instance, in its
// user's home: vscode://vscode-remote/ssh-remote+USER@HOST:PORT/PATH, the
// form VS Code's URL handler gives the remote extension. It is "" unless
// SSH is on, the owner gave a key (VS Code signs in with it, never with a
// password) and the instance has an address.
func (i *Instance) VSCodeDesktopURL() string {
	host := i.sshHost()
	if !i.SSHEnabled || i.SSHPublicKey == "" || host == "" {
		return ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return fmt.Sprintf("vscode://vscode-remote/ssh-remote+%s@%s:%d/home/%s", SSHUser, host, i.SSHPort, SSHUser)
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

// Access is what the signed-in user may do with one instance. The service
// sets it on every instance it returns; pages only read it.
type Access struct {
	Manage   bool // start, stop, restart, delete
	OpenApps bool // the applications: the owner only
	// AddSSHKey is adding one's SSH key to an instance with SSH on: the
	// owner only, as the applications.
	AddSSHKey bool
	// BootLog is reading what its VM printed while it booted: Owners.
	BootLog bool
}

// BootLogPage is an instance's boot log as its page shows it.
type BootLogPage struct {
	Instance *Instance
	Log      *BootLog
	// Unavailable says why there is no log to show.
	Unavailable string
}

// PageSize is how many instances a page of the list shows.
const PageSize = 50

// DefaultSSHPort is the port instances accept SSH on.
const DefaultSSHPort = 22

// ListQuery is what the list page asks for.
type ListQuery struct {
	OnlyMine bool
	// Owner keeps the instances of the account with this email; with
	// OnlyMine, only the user's own, if they are that account.
	Owner string
	// OldImage keeps the instances on an older version of their OS image
	// than their region offers.
	OldImage bool
	Search   string
	Sort     InstanceSort
	Page     int // from 1
	// NoNextStops leaves each instance's next stop (AutoStop, NextStop)
	// unread, for a reader that shows none (the API): it saves a read of
	// the page's schedules.
	NoNextStops bool
	// Brief reads only what the list's rows show (InstanceFilter.Brief),
	// for the list page.
	Brief bool
}

// InstancePage is one page of the instance list.
type InstancePage struct {
	Query     ListQuery
	Instances []*Instance
	Total     int
	Pages     int
	// OwnerError says why the owner filter matches no account.
	OwnerError string
	// Owners are the accounts that own live instances, for the owner
	// filter; set with the whole page only (InstanceOwners).
	Owners []*User
}

// InstanceDetail is an instance with its history of operations.
type InstanceDetail struct {
	*Instance
	Operations []*Operation
	// StoppedBilling says what the instance keeps costing while stopped.
	StoppedBilling string
	// Unavailable holds, by slug, why an application cannot work on it.
	Unavailable map[string]string
	// Activity is the use of its applications, as far as known.
	Activity Activity
	// Schedules are its start/stop schedules; IdleStopAt is when idle
	// shutdown will stop it if nothing happens (zero: it will not).
	Schedules  []*Schedule
	IdleStopAt time.Time
	// Cost estimates its compute's cost; nil without a price.
	Cost *InstanceCost
	// SetupRun is how its last setup script ran; nil when none ran.
	SetupRun *SetupResult
}

// HistoryLength is how many operations the details page lists.
const HistoryLength = 20

// NewAppSecret makes an instance's upstream secret: 256 random bits,
// URL-safe, so that it may stand as a Jupyter token.
func NewAppSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("make the instance's application secret: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
