// Package emulator is an offline Azure Resource Manager for instancehub: the
// Azure SDK for Go's own fake servers in front of a small cloud of VMs,
// network interfaces, public IPs, security groups and virtual networks.
//
// The real, unmodified armcompute and armnetwork clients run against it
// through ClientOptions and Credential. Long-running operations take time
// (scaled by Options.Latency), are answered from the model by the clock, and
// survive a restart when Options.Path is set, so pollers resume from their
// resume tokens. Refusals, quotas and conflicts come back as ARM sends them.
package emulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	azfake "github.com/Azure/azure-sdk-for-go/sdk/azcore/fake"
)

// Options configure an Emulator.
type Options struct {
	Path string // SQLite database the cloud is kept in (created if missing); "" = memory only
	// Import is the JSON file an older emulator kept the cloud in: read
	// once into a new database at Path, then renamed *.imported. A marker
	// takes its place (MovedMarker), which the builds that read that file
	// refuse, rather than start an empty cloud there.
	Import         string
	Latency        float64                   // scales operation durations and per-request latency; 0 = instant (tests), 1 = realistic
	SubscriptionID string                    // default "00000000-0000-0000-0000-000000000000"
	ResourceGroup  string                    // default "instancehub"
	Quota          map[string]map[string]int // region -> usage name (a family like "standardNCSv3Family", or "cores" for the regional total) -> limit; overrides defaults
	PageSize       int                       // VMs per page of list calls; default 100
	// Now is the cloud's clock: when operations fall due and tombstones are
	// forgotten. Default time.Now; a test passes its own, so that a cloud
	// kept with dated resources (Import) reads the same on any day.
	Now func() time.Time
	// RunScript, when set, is what a VM does with the script the Custom
	// Script extension delivers to it (vm names the VM): the emulator has
	// no VM to run it on, so a test that wants it run gives a runner, and
	// the extension's instance view reports what it returned, as Azure's
	// reports the script's output. Unset, a script is kept and reported as
	// having run with no output.
	RunScript func(vm, script string) ScriptRun
}

// Emulator is an emulated Azure subscription with one resource group. It is
// safe for concurrent use.
type Emulator struct {
	opts  Options
	quota map[string]map[string]int
	door  *frontDoor

	mu      sync.Mutex // guards cloud and stopped
	cloud   *cloud
	stopped bool // saved for the last time: no more changes

	faultMu sync.Mutex
	faults  []Fault

	// published are the image versions PublishImageVersion added to the
	// catalog, by image ("publisher:offer:sku", lower case).
	imageMu   sync.Mutex
	published map[string][]string

	// blobs are the download addresses of boot logs handed out, by
	// signature (see bootdiag.go).
	blobMu sync.Mutex
	blobs  map[string]signedBlob

	calls  atomic.Int64
	perAPI sync.Map // API name -> *atomic.Int64
	seq    atomic.Int64
	closed atomic.Bool
}

// Fault is a one-shot failure for the next matching request.
type Fault struct {
	API        string // API name as in runtime.CtxAPINameKey, e.g. "VirtualMachinesClient.BeginCreateOrUpdate", "InterfacesClient.BeginCreateOrUpdate"
	Resource   string // resource name it applies to ("" = any)
	StatusCode int    // e.g. 409, 500; 0 = 500
	Code       string // ARM error code, e.g. "AllocationFailed"; "" = "InternalServerError"
	Message    string
	Async      bool // false: the Begin call itself is refused; true: the LRO is accepted and then ends Failed with this error
}

// Open starts an emulator, loading the cloud kept at opts.Path if there is
// one, else the one opts.Import holds. A fresh cloud has one virtual network
// per region.
func Open(opts Options) (*Emulator, error) {
	opts, err := withDefaults(opts)
	if err != nil {
		return nil, err
	}
	d, err := openDisk(opts.Path)
	if err != nil {
		return nil, err
	}
	e, err := open(opts, d)
	if err != nil {
		d.close()
		return nil, err
	}
	return e, nil
}

func open(opts Options, d *disk) (*Emulator, error) {
	c, err := d.load()
	imported := false
	if c == nil && err == nil && opts.Import != "" {
		var moved bool
		c, moved, err = importJSON(opts.Import)
		imported = c != nil
		if moved {
			return nil, fmt.Errorf("emulator: %s says this directory's cloud is kept in %s, which holds none: it was removed or replaced. "+
				"Put it back (instancehub restore puts back a backup's), or remove %s too to start an empty cloud", opts.Import, opts.Path, opts.Import)
		}
	}
	switch {
	case err != nil:
		return nil, err
	case c == nil:
		c = newCloud(opts.SubscriptionID, opts.ResourceGroup)
		c.seedNetworks(opts.Now())
	case !strings.EqualFold(c.SubscriptionID, opts.SubscriptionID) || !strings.EqualFold(c.ResourceGroup, opts.ResourceGroup):
		return nil, fmt.Errorf("emulator: %s holds subscription %s, resource group %s, not %s, %s",
			opts.Path, c.SubscriptionID, c.ResourceGroup, opts.SubscriptionID, opts.ResourceGroup)
	}
	c.disk = d
	e := &Emulator{opts: opts, quota: mergeQuota(opts.Quota), cloud: c, blobs: map[string]signedBlob{}}
	e.door = newFrontDoor(e)
	if err := e.withCloud(func(*cloud, time.Time) error { return nil }); err != nil {
		return nil, err
	}
	if imported { // saved: the old file is not read again, but kept
		if err := os.Rename(opts.Import, opts.Import+".imported"); err != nil {
			return nil, fmt.Errorf("emulator: %w", err)
		}
	}
	if opts.Import != "" && opts.Path != "" {
		if err := markMoved(opts.Import, filepath.Base(opts.Path)); err != nil {
			return nil, err
		}
	}
	return e, nil
}

func withDefaults(opts Options) (Options, error) {
	if opts.SubscriptionID == "" {
		opts.SubscriptionID = "00000000-0000-0000-0000-000000000000"
	}
	if opts.ResourceGroup == "" {
		opts.ResourceGroup = "instancehub"
	}
	if opts.PageSize <= 0 {
		opts.PageSize = 100
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Latency < 0 {
		return opts, errors.New("emulator: negative latency")
	}
	for region := range opts.Quota {
		if _, ok := findRegion(region); !ok {
			return opts, fmt.Errorf("emulator: quota for unknown region %q", region)
		}
	}
	return opts, nil
}

func mergeQuota(overrides map[string]map[string]int) map[string]map[string]int {
	q := defaultQuotaCopy()
	for region, limits := range overrides {
		for name, limit := range limits {
			q[region][name] = limit
		}
	}
	return q
}

// ClientOptions are the options for every armcompute and armnetwork client
// that should talk to the emulator: its front door is their transport. Each
// call returns a fresh value the caller may change (e.g. Retry).
func (e *Emulator) ClientOptions() *arm.ClientOptions {
	return &arm.ClientOptions{ClientOptions: azcore.ClientOptions{Transport: e.door}}
}

// Credential is the credential to pass the clients; the emulator checks none.
func (e *Emulator) Credential() azcore.TokenCredential { return &azfake.TokenCredential{} }

// SubscriptionID is the emulated subscription.
func (e *Emulator) SubscriptionID() string { return e.opts.SubscriptionID }

// ResourceGroup is the one resource group that exists.
func (e *Emulator) ResourceGroup() string { return e.opts.ResourceGroup }

// Regions names the regions resources may be created in.
func (e *Emulator) Regions() []string {
	names := make([]string, len(regions))
	for i, r := range regions {
		names[i] = r.Name
	}
	return names
}

// Calls is the number of ARM requests served so far, polls and retries included.
func (e *Emulator) Calls() int64 { return e.calls.Load() }

// CallsTo is the number of requests served for one API name, e.g.
// "VirtualMachinesClient.NewListAllPager" (one per page) or
// "VirtualMachinesClient.BeginStart" (the Begin and each of its polls).
func (e *Emulator) CallsTo(api string) int64 {
	if n, ok := e.perAPI.Load(api); ok {
		return n.(*atomic.Int64).Load()
	}
	return 0
}

func (e *Emulator) count(api string) {
	e.calls.Add(1)
	n, _ := e.perAPI.LoadOrStore(api, new(atomic.Int64))
	n.(*atomic.Int64).Add(1)
}

// InjectFault arms a one-shot fault: the next request of f.API (on
// f.Resource) fails with it. Faults are used up in the order injected; polls
// never use them up. A synchronous fault applies to any API (a Get, a page of
// a list), an asynchronous one to Begin methods only. A synchronous 429 or
// 5xx is retried by azcore like real ARM's, and the retry finds the fault
// used up: inject it once per attempt (4 by default) to make a call fail, or
// lower ClientOptions().Retry.MaxRetries.
func (e *Emulator) InjectFault(f Fault) {
	e.faultMu.Lock()
	defer e.faultMu.Unlock()
	e.faults = append(e.faults, f)
}

// takeFault uses up the first fault armed for api on the named resource.
func (e *Emulator) takeFault(api, name string, async bool) *armError {
	e.faultMu.Lock()
	defer e.faultMu.Unlock()
	i := slices.IndexFunc(e.faults, func(f Fault) bool {
		return f.API == api && f.Async == async && (f.Resource == "" || strings.EqualFold(f.Resource, name))
	})
	if i < 0 {
		return nil
	}
	f := e.faults[i]
	e.faults = slices.Delete(e.faults, i, i+1)
	if f.StatusCode == 0 {
		f.StatusCode = 500
	}
	if f.Code == "" {
		f.Code = "InternalServerError"
	}
	return &armError{Status: f.StatusCode, Code: f.Code, Message: f.Message}
}

// RequestBody is the JSON body of the last PUT of a resource as the client
// sent it, deleted resources included — with what ARM never returns on GET,
// such as osProfile.customData — so tests can assert on requests.
// resourceType is the ARM type: "virtualMachines", "networkInterfaces",
// "publicIPAddresses", "networkSecurityGroups" or "virtualNetworks".
func (e *Emulator) RequestBody(resourceType, name string) (json.RawMessage, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stopped {
		return nil, false
	}
	k := key(resourceType, name)
	r := e.cloud.Resources[k]
	if r == nil {
		r = e.cloud.Tombstones[k]
	}
	if r == nil {
		return nil, false
	}
	sent, err := e.cloud.sentOf(r)
	if err != nil || sent == nil {
		return nil, false
	}
	return slices.Clone(sent), true
}

// Close saves the cloud and stops serving: later requests fail, and so do
// requests in flight that would change the cloud after its last save. The
// cloud leaves memory, though the Emulator may still be referenced.
func (e *Emulator) Close() error {
	if e.closed.Swap(true) {
		return nil
	}
	err := e.withCloud(func(*cloud, time.Time) error { return nil })
	e.mu.Lock()
	defer e.mu.Unlock()
	e.stopped = true
	err = errors.Join(err, e.cloud.disk.close())
	e.cloud = nil
	return err
}

// withCloud runs fn on the model brought up to now, under the lock, and saves
// the model if anything changed, so each answer reflects the clock and each
// change survives a restart.
func (e *Emulator) withCloud(fn func(c *cloud, now time.Time) error) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stopped {
		return errClosed
	}
	now := e.opts.Now()
	e.cloud.settle(now)
	err := fn(e.cloud, now)
	if serr := e.cloud.save(); serr != nil && err == nil {
		err = serr
	}
	return err
}
