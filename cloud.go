package instancehub

import (
	"context"
	"strings"
	"time"
)

// Region is an Azure region instances may be placed in.
type Region struct {
	Name        string // eastus
	DisplayName string // East US
}

// VMSize is a virtual machine size offered in a region.
type VMSize struct {
	Name      string // Standard_DS3_v2
	Family    string // the quota family, as Azure names it: standardDSv2Family
	VCPUs     int
	MemoryGiB float64
	GPUs      int
}

// Kind is "GPU" or "CPU".
func (s VMSize) Kind() string {
	if s.GPUs > 0 {
		return "GPU"
	}
	return "CPU"
}

// FamilyLabel is the family as Azure's quota pages name it, without the
// "vCPUs" suffix: "Standard DSv2 Family".
func FamilyLabel(family string) string {
	f := strings.TrimSuffix(family, "Family")
	if after, ok := strings.CutPrefix(f, "standard"); ok {
		return "Standard " + after + " Family"
	}
	return family
}

// TotalRegionalVCPUs is the name Azure gives the regional total in its usage list.
const TotalRegionalVCPUs = "cores"

// Usage is one line of a region's vCPU quota as Azure reports it: every VM
// that exists counts, running or deallocated.
type Usage struct {
	Name    string // a family ("standardDSv2Family") or TotalRegionalVCPUs
	Label   string // "Standard DSv2 Family vCPUs"
	Current int
	Limit   int
}

// VirtualNetwork is a network instances may join, with its subnets.
type VirtualNetwork struct {
	// Name is how instances record the network: its name when it is in the
	// portal's resource group, its resource ID when it is elsewhere (as the
	// Azure CLI takes either).
	Name string
	// ID is its resource ID, by which a file may name it too.
	ID           string
	Region       string
	AddressSpace string
	Subnets      []Subnet
	// Planned marks the portal's own network before it exists: the first
	// instance to join it makes it.
	Planned bool
}

// Subnet is a range of a virtual network.
type Subnet struct {
	Name          string
	AddressPrefix string
}

// VM is what Azure reports of an instance's virtual machine.
type VM struct {
	Name string
	// ProvisioningState and PowerState are the codes of the instance view's
	// statuses, lower-case: "succeeded", "failed"; "running", "deallocated".
	ProvisioningState string
	PowerState        string
	PrivateIP         string
	PublicIP          string
	// Image is the image the VM was made from, "publisher:offer:sku:version".
	Image string
	// Portals says the VM carries this portal's tag: the portal made it.
	Portals bool
}

// State maps Azure's provisioning and power states to an instance state.
func (vm VM) State() State {
	switch vm.ProvisioningState {
	case "creating":
		return StateCreating
	case "deleting":
		return StateDeleting
	case "failed":
		if vm.PowerState == "" {
			return StateCreateFailed
		}
		return StateUnusable
	}
	switch vm.PowerState {
	case "running":
		return StateRunning
	case "starting":
		return StateStarting
	case "stopping", "deallocating":
		return StateStopping
	case "stopped", "deallocated":
		return StateStopped
	}
	return StateUnknown
}

// Cloud is Azure as the portal uses it. Methods return *Error: ENOTFOUND for
// what does not exist, ECONFLICT when Azure refuses for the state of a
// resource (CloudCode holds Azure's code), EQUOTA when a vCPU quota would be
// exceeded, EINVALID for a bad request, ECLOUD when an operation failed or
// the portal's identity lacks a permission (the message names it), and
// EUNAVAILABLE when Azure cannot be reached or fails.
type Cloud interface {
	// Regions lists the regions instances may be created in.
	Regions(ctx context.Context) ([]Region, error)
	// VMSizes lists the sizes offered in a region.
	VMSizes(ctx context.Context, region string) ([]VMSize, error)
	// Usage lists a region's vCPU quota per family and in total.
	Usage(ctx context.Context, region string) ([]Usage, error)
	// VirtualNetworks lists the networks of a region that instances may join.
	VirtualNetworks(ctx context.Context, region string) ([]VirtualNetwork, error)

	// Steps names, in order, the Azure steps that carry out op on inst.
	Steps(op OperationKind, inst *Instance) []string
	// BeginStep starts one step of op and returns its poller's resume token,
	// or "" when the step finished at once.
	BeginStep(ctx context.Context, op OperationKind, step string, inst *Instance) (token string, err error)
	// PollStep asks Azure once how a step is going; a step that failed
	// returns its error.
	PollStep(ctx context.Context, op OperationKind, step string, inst *Instance, token string) (done bool, err error)

	// VM reads one instance's virtual machine with its addresses; ENOTFOUND
	// when it does not exist.
	VM(ctx context.Context, inst *Instance) (*VM, error)
	// VMs reads the state of every virtual machine of the portal in paged
	// list calls and calls each with every one, a page at a time, so that a
	// sync of thousands holds no list of them. It reads no addresses.
	VMs(ctx context.Context, each func(VM)) error
	// PortalVMs lists the virtual machines that carry this portal's tag,
	// with what rebuilds their instances: tags, size, network, key, state
	// and addresses.
	PortalVMs(ctx context.Context) ([]PortalVM, error)
	// PortalVM reads one virtual machine as PortalVMs does; ENOTFOUND when
	// it does not exist or does not carry this portal's tag.
	PortalVM(ctx context.Context, name string) (*PortalVM, error)
}

// PortalVM is a virtual machine the portal made, as Azure and the tags the
// portal put on it describe it: enough to rebuild an instance whose record
// was lost.
type PortalVM struct {
	VM
	// Instance and OwnerEmail are the instance and owner tags.
	Instance   string
	OwnerEmail string
	Region     string
	VMSize     string
	// SSHPublicKey is the key the VM admits, "" when it was made without SSH.
	SSHPublicKey   string
	VirtualNetwork string
	Subnet         string
	// CreatedAt is when Azure made the VM; zero when it does not say.
	CreatedAt time.Time
}

// ReadBackoff is implemented by clouds that know their remaining read budget
// (Azure reports it on every response): reads that can wait, such as the
// background sync, hold off for the returned time when it is not zero.
type ReadBackoff interface {
	ReadBackoff() time.Duration
}

// PollAfter is implemented by clouds whose operations say when to ask about
// them next (Azure's Retry-After on an operation's status): the engine
// waits that long instead of its own poll interval.
type PollAfter interface {
	PollAfter(token string) time.Duration
}

// ResumeTokens is implemented by clouds that can tell whether they can
// follow a step's resume token: one issued under another configuration
// (the in-process emulator's, for a portal moved since to an emulator of
// its own process) leads elsewhere, and the engine sends its step again
// instead, every step being idempotent.
type ResumeTokens interface {
	CanResume(token string) bool
}

// StoppedBilling is implemented by clouds that know what an instance keeps
// costing while it is stopped: a stopped (deallocated) VM bills no compute,
// but its disk and a static public IP go on billing.
type StoppedBilling interface {
	StoppedBilling(inst *Instance) string
}

// ApplicationWarning is implemented by application upstreams that run
// applications less safely than the reference product does: the offline
// emulator started with --unsafe-local-apps, whose Jupyter runs without a
// sandbox. Owners see the warning on the Settings page.
type ApplicationWarning interface {
	// ApplicationWarning says what is unsafe, "" when nothing is.
	ApplicationWarning() string
}

// ApplicationAvailability is implemented by clouds that know when an
// application cannot work on an instance, such as RStudio, whose container
// image the VM must download, on a VM with no way out to the Internet.
type ApplicationAvailability interface {
	// ApplicationUnavailable returns why the application of slug cannot
	// work on inst, or "" when it can (or when the cloud cannot tell).
	ApplicationUnavailable(ctx context.Context, inst *Instance, slug string) string
}

// SSHKeyAdder is a cloud that can add an SSH key to a running instance's
// user after it was made (on Azure, the VM access extension).
type SSHKeyAdder interface {
	// AddSSHKey adds key to the instance's user and returns once it is
	// applied. The instance must be running.
	AddSSHKey(ctx context.Context, inst *Instance, key string) error
}

// BootLogs is a Cloud that keeps what its VMs print to their serial console
// while they boot (Azure's managed boot diagnostics), where a start that
// failed before any application answered shows why.
type BootLogs interface {
	// BootLog reads the end of inst's boot log: ENOTFOUND when the VM does
	// not exist, EUNAVAILABLE when none is kept (boot diagnostics off, or
	// the VM never booted), ECLOUD when the portal's identity may not read it.
	BootLog(ctx context.Context, inst *Instance) (*BootLog, error)
}

// BootLog is the end of a VM's serial console log.
type BootLog struct {
	Text string
	// Truncated says that Text is the log's last MaxBootLogBytes only.
	Truncated bool
}

// MaxBootLogBytes is how much of a boot log the portal shows: its end,
// where the boot that failed is.
const MaxBootLogBytes = 256 << 10
