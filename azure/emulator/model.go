package emulator

import (
	"crypto/rand"
	"fmt"
	"slices"
	"strings"
	"time"
	"unique"
)

// ARM resource types the model holds.
const (
	typeVM   = "virtualMachines"
	typeNIC  = "networkInterfaces"
	typePIP  = "publicIPAddresses"
	typeNSG  = "networkSecurityGroups"
	typeVNet = "virtualNetworks"
)

func providerOf(typ string) string {
	if typ == typeVM {
		return "Microsoft.Compute"
	}
	return "Microsoft.Network"
}

// Provisioning states. VMs report Creating while created; the network
// resource provider reports Updating for creates and updates alike.
const (
	stateCreating  = "Creating"
	stateUpdating  = "Updating"
	stateDeleting  = "Deleting"
	stateSucceeded = "Succeeded"
	stateFailed    = "Failed"
)

// tombstoneTTL is how long a deleted resource is remembered: long enough for
// any poller of its deletion to hear that it succeeded. Tombstones are
// swept every sweepEvery, not on every request: there may be thousands.
const (
	tombstoneTTL = 24 * time.Hour
	sweepEvery   = time.Minute
)

// cloud is the emulated resource group: its resources, the operations running
// on them and tombstones of deleted ones. It is kept on disk (see disk):
// every change is written before the request that made it is answered.
type cloud struct {
	SubscriptionID string
	ResourceGroup  string
	Resources      map[string]*resource
	Tombstones     map[string]*resource
	PublicIPs      int // public addresses handed out so far

	idx     indexes
	swept   time.Time             // when tombstones were last swept
	changed map[*resource]*bodies // resources changed, added (with their bodies) or dropped since last saved
	counter bool                  // PublicIPs changed since last saved
	disk    *disk
	arena   []byte // the buffer bodiesOf reads a page's bodies into, again at every page
}

// resource is one ARM resource. Its bodies — what GET returns (less what is
// computed on read: provisioning state, instance view, back references) and
// the last PUT as the client sent it — stay on disk, read when asked for;
// the fields here are what the rules need, kept apart so no rule has to
// read a body.
type resource struct {
	Type     string     `json:"type"`
	Name     string     `json:"name"`
	Location string     `json:"location"`
	State    string     `json:"provisioningState"`
	Failure  *armError  `json:"failure,omitempty"`    // why State is Failed
	Power    string     `json:"powerState,omitempty"` // VMs only
	Changed  time.Time  `json:"changed"`              // when State or Power last changed
	Active   string     `json:"active,omitempty"`     // kind of the operation in progress
	Ops      operations `json:"operations"`           // latest operation of each kind
	Deleted  time.Time  `json:"deleted,omitzero"`

	GUID      string      `json:"guid,omitempty"`      // a network resource's resourceGuid
	Size      string      `json:"size,omitempty"`      // VM size
	NICs      []nicLink   `json:"nics,omitempty"`      // a VM's network interfaces
	IPConfigs []ipConfig  `json:"ipConfigs,omitempty"` // a NIC's IP configurations
	NSG       string      `json:"nsg,omitempty"`       // a NIC's security group (model key)
	Address   string      `json:"address,omitempty"`   // a public IP's address
	Subnets   []subnetDef `json:"subnets,omitempty"`   // a virtual network's subnets
	// AccessKeys are the SSH keys the VM access extension added to a VM.
	AccessKeys []string `json:"accessKeys,omitempty"`
	// CustomScript is the script the Custom Script extension last ran on a
	// VM, as the VM decrypted it from the protected settings.
	CustomScript string `json:"customScript,omitempty"`
	// ScriptRun is how the Custom Script extension's last script ran on a
	// VM, when the emulator ran it (Options.RunScript): its instance view.
	ScriptRun *ScriptRun `json:"scriptRun,omitempty"`

	key string // its model key, shared by the indexes
	row int64  // its row on disk; 0 until first saved
}

// bodies are the bodies of a PUT not saved yet.
type bodies struct{ body, sent []byte }

// nicLink is a VM's reference to a NIC; Delete is the NIC's deleteOption.
type nicLink struct {
	Key    string `json:"key"`
	Delete bool   `json:"delete,omitempty"`
}

// ipConfig is a NIC's IP configuration with the keys of what it uses.
type ipConfig struct {
	Name      string `json:"name"`
	VNet      string `json:"vnet"`   // model key of the virtual network
	Subnet    string `json:"subnet"` // subnet name
	PrivateIP string `json:"privateIP"`
	PublicIP  string `json:"publicIP,omitempty"` // model key of the public IP
}

// subnetDef is a subnet of a virtual network.
type subnetDef struct {
	Name   string `json:"name"`
	Prefix string `json:"prefix"`
}

// operation is a long-running operation on a resource. Its outcome is fixed
// when it starts; it takes effect once Due passes, whoever looks first.
type operation struct {
	Kind   string    `json:"kind"` // kindPut, kindDelete, kindStart...
	Name   string    `json:"name"` // create, update, start, deallocate, restart, delete
	Due    time.Time `json:"due"`
	Fail   *armError `json:"fail,omitempty"`   // the error it ends with, nil if it succeeds
	Power  string    `json:"power,omitempty"`  // VM power state once it succeeded
	Before string    `json:"before,omitempty"` // VM power state to fall back to if it fails
}

// operations are the latest operation of each kind on a resource: a short
// list, lighter than a map for the one or two most resources have.
type operations []*operation

func (ops operations) of(kind string) *operation {
	for _, op := range ops {
		if op.Kind == kind {
			return op
		}
	}
	return nil
}

func (ops *operations) set(kind string, op *operation) {
	op.Kind = kind
	ops.drop(kind)
	*ops = append(*ops, op)
}

func (ops *operations) drop(kind string) {
	*ops = slices.DeleteFunc(*ops, func(op *operation) bool { return op.Kind == kind })
}

func newCloud(subscriptionID, resourceGroup string) *cloud {
	return &cloud{SubscriptionID: subscriptionID, ResourceGroup: resourceGroup,
		Resources: map[string]*resource{}, Tombstones: map[string]*resource{},
		idx: newIndexes(), changed: map[*resource]*bodies{}}
}

func key(typ, name string) string { return typ + "/" + strings.ToLower(name) }

func (c *cloud) get(typ, name string) *resource { return c.Resources[key(typ, name)] }

// put adds r, with the bodies of its PUT, in place of the resource of its
// name if there is one.
func (c *cloud) put(r *resource, body, sent []byte) {
	r.Name = strings.Clone(r.Name) // not the fake's slice of the whole request path
	r.compact()
	if old := c.Resources[r.key]; old != nil {
		c.idx.unindex(old)
		c.touch(old)
	}
	c.Resources[r.key] = r
	c.idx.index(r)
	c.changed[r] = &bodies{body: body, sent: sent}
}

// touch marks r to be saved: written if it is still in the cloud, its row
// dropped if not.
func (c *cloud) touch(r *resource) {
	if _, found := c.changed[r]; !found {
		c.changed[r] = nil
	}
}

// compact gives r its key and makes the strings that many resources share
// (types, regions, states, sizes, networks) one copy each: read from disk,
// every resource would have its own, and with thousands of resources the
// copies would weigh more than the resources.
func (r *resource) compact() {
	r.Type, r.Location, r.State, r.Power, r.Active, r.Size =
		intern(r.Type), intern(r.Location), intern(r.State), intern(r.Power), intern(r.Active), intern(r.Size)
	r.key = key(r.Type, r.Name)
	for _, op := range r.Ops {
		op.Kind, op.Name, op.Power, op.Before = intern(op.Kind), intern(op.Name), intern(op.Power), intern(op.Before)
	}
	for i := range r.IPConfigs {
		cfg := &r.IPConfigs[i]
		cfg.Name, cfg.VNet, cfg.Subnet = intern(cfg.Name), intern(cfg.VNet), intern(cfg.Subnet)
	}
}

func intern(s string) string { return unique.Make(s).Value() }

// id is the ARM resource ID of a resource of the resource group.
func (c *cloud) id(typ, name string) string {
	return fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers/%s/%s/%s",
		c.SubscriptionID, c.ResourceGroup, providerOf(typ), typ, name)
}

// parseID reads an ARM ID of this resource group: its type and name, and a
// child's ("subnets", "default") if any. ok is false for any other ID.
func (c *cloud) parseID(id string, typ string) (name, child string, ok bool) {
	p := strings.Split(id, "/")
	if len(p) != 9 && len(p) != 11 || p[0] != "" ||
		!strings.EqualFold(p[1], "subscriptions") || !strings.EqualFold(p[2], c.SubscriptionID) ||
		!strings.EqualFold(p[3], "resourceGroups") || !strings.EqualFold(p[4], c.ResourceGroup) ||
		!strings.EqualFold(p[5], "providers") || !strings.EqualFold(p[6], providerOf(typ)) ||
		!strings.EqualFold(p[7], typ) || p[8] == "" {
		return "", "", false
	}
	if len(p) == 11 {
		child = p[10]
	}
	return p[8], child, true
}

// begin starts an operation of the given kind on r: r shows state and power
// until the operation is due.
func (c *cloud) begin(r *resource, kind string, op *operation, state, power string, now time.Time) {
	r.Ops.set(kind, op)
	c.idx.setActive(r, kind)
	r.State, r.Power, r.Failure, r.Changed = state, power, nil, now
	c.touch(r)
}

// active is the operation in progress on r, nil when there is none.
func (r *resource) active() *operation {
	if r.Active == "" {
		return nil
	}
	return r.Ops.of(r.Active)
}

// settle brings the model up to now: every operation whose time has come
// takes effect. Called before every read and write.
func (c *cloud) settle(now time.Time) {
	for _, r := range c.idx.running {
		if op := r.active(); op != nil && !now.Before(op.Due) {
			c.finish(r, op)
		}
	}
	if now.Sub(c.swept) < sweepEvery {
		return
	}
	c.swept = now
	for k, t := range c.Tombstones {
		if now.Sub(t.Deleted) > tombstoneTTL {
			delete(c.Tombstones, k)
			c.touch(t)
		}
	}
}

// finish applies the outcome of r's operation, at the time it was due.
func (c *cloud) finish(r *resource, op *operation) {
	c.touch(r)
	kind := r.Active
	c.idx.setActive(r, "")
	r.Changed = op.Due
	switch {
	case op.Fail != nil:
		r.State, r.Failure, r.Power = stateFailed, op.Fail, op.Before
	case kind == kindDelete:
		c.remove(r, op.Due)
	default:
		r.State, r.Failure, r.Power = stateSucceeded, nil, op.Power
	}
}

// remove deletes r, and the NICs its deletion takes along, keeping tombstones
// so pollers of the deletion still hear of it.
func (c *cloud) remove(r *resource, at time.Time) {
	c.idx.unindex(r)
	delete(c.Resources, r.key)
	r.Deleted, r.Active = at, ""
	if old := c.Tombstones[r.key]; old != nil {
		c.touch(old)
	}
	c.Tombstones[r.key] = r
	c.touch(r)
	for _, n := range r.NICs {
		if nic := c.Resources[n.Key]; n.Delete && nic != nil {
			c.remove(nic, at)
		}
	}
}

// newUUID returns a random (version 4) UUID for vmId and resourceGuid.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// normalizeLocation turns "East US" into "eastus", as ARM does.
func normalizeLocation(loc *string) string {
	if loc == nil {
		return ""
	}
	return strings.ToLower(strings.ReplaceAll(*loc, " ", ""))
}
