package azure

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v8"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v9"
	"github.com/instancehub/instancehub"
)

// The steps of the operations, as the row shows them ("Creating: network
// interface").
const (
	StepVirtualNetwork   = "virtual network"
	StepSecurityGroup    = "network security group"
	StepPublicIP         = "public IP address"
	StepNetworkInterface = "network interface"
	StepVirtualMachine   = "virtual machine"
	// StepAppSecret sends the instance's application secret to its running
	// VM (see secretExtension): after the VM is made, and at every Start,
	// which gives the instance a new one.
	StepAppSecret = "application secret"
)

// Steps names, in order, the Azure steps that carry out op on inst. A
// workstation is made network first and removed virtual machine first.
func (c *Cloud) Steps(op instancehub.OperationKind, inst *instancehub.Instance) []string {
	switch op {
	case instancehub.OpCreate:
		var steps []string
		if c.cfg.sharedNetwork(inst.VirtualNetwork, inst.Region) {
			steps = append(steps, StepVirtualNetwork)
		}
		steps = append(steps, StepSecurityGroup)
		if c.wantsPublicIP(inst) {
			steps = append(steps, StepPublicIP)
		}
		return append(steps, StepNetworkInterface, StepVirtualMachine, StepAppSecret)
	case instancehub.OpStart:
		return []string{StepVirtualMachine, StepAppSecret}
	case instancehub.OpDelete:
		return []string{StepVirtualMachine, StepNetworkInterface, StepPublicIP, StepSecurityGroup}
	}
	return []string{StepVirtualMachine}
}

// wantsPublicIP: a public address serves SSH only, and only once an
// operator has named where SSH may come from.
func (c *Cloud) wantsPublicIP(inst *instancehub.Instance) bool {
	return c.cfg.PublicIP && inst.SSHEnabled && c.cfg.SSHSourceRange != ""
}

// StoppedBilling says what keeps billing while inst is stopped: Azure
// bills no compute for a deallocated VM, but the managed OS disk bills for
// its size and tier, and a Standard public IP is static and bills whether
// or not its VM runs.
func (c *Cloud) StoppedBilling(inst *instancehub.Instance) string {
	disk := fmt.Sprintf("its %d GiB %s OS disk", c.cfg.OSDiskSizeGB, diskLabel(c.cfg.OSDiskType))
	if c.wantsPublicIP(inst) {
		return "While stopped, " + inst.Name + " bills no compute, but " + disk + " and its static public IP keep billing."
	}
	return "While stopped, " + inst.Name + " bills no compute, but " + disk + " keeps billing."
}

func diskLabel(diskType string) string {
	switch strings.ToLower(diskType) {
	case "premium_lrs", "premium_zrs":
		return "Premium SSD"
	case "standardssd_lrs", "standardssd_zrs":
		return "Standard SSD"
	case "standard_lrs":
		return "Standard HDD"
	}
	return diskType
}

// ApplicationUnavailable says why an application cannot work on inst:
// RStudio runs from a container image the VM downloads, which a VM with no
// public IP cannot do on a subnet with no way out to the Internet (see
// wayOut). When the subnet, its route table or the load balancer cannot be
// read, RStudio is offered: the portal cannot tell.
func (c *Cloud) ApplicationUnavailable(ctx context.Context, inst *instancehub.Instance, slug string) string {
	if slug != "rstudio" || c.wantsPublicIP(inst) {
		return ""
	}
	key := "way-out/" + inst.Region + "/" + inst.VirtualNetwork + "/" + inst.Subnet
	way, err := cached(&c.catalog, key, func() (wayOut, error) { return c.wayOut(ctx, inst.VirtualNetwork, inst.Subnet, inst.Region) })
	if err != nil || way.Out {
		return ""
	}
	return fmt.Sprintf("RStudio is not available on %s: it runs from a container image the instance downloads, and its subnet %s/%s has no way out to the Internet: %s.",
		inst.Name, inst.VirtualNetwork, inst.Subnet, way.Via)
}

// BeginStep starts one step and returns its poller's resume token, or ""
// when Azure finished the step at once.
func (c *Cloud) BeginStep(ctx context.Context, op instancehub.OperationKind, step string, inst *instancehub.Instance) (string, error) {
	doing := fmt.Sprintf("%s %s of %s", op.Verb(), step, inst.Name)
	if op != instancehub.OpCreate {
		c.usageCache.clear()
	}
	if op == instancehub.OpCreate && step == StepVirtualMachine {
		c.vmPuts.RLock()
		defer c.vmPuts.RUnlock()
	}
	var token string
	err := c.waitOut(ctx, func() error {
		if err := c.holdWrites(ctx, op == instancehub.OpDelete); err != nil {
			return err
		}
		var err error
		token, err = c.beginStep(ctx, op, step, inst)
		return err
	})
	if op == instancehub.OpCreate && step == StepVirtualMachine {
		c.countVM(inst, err)
	}
	return token, cloudError(err, doing)
}

// countVM adds a created VM's vCPUs to its region's kept usage once Azure
// has accepted its PUT, from which moment Azure counts them: every create
// would otherwise read the usage from Azure again, within the service's
// admission of creates, one at a time. A create's other steps change no
// vCPU count and leave the usage kept. A refused PUT, or a VM whose size
// is not known here, makes the next read go to Azure. (A PUT to a VM that
// existed, a create's step again after a restart, counts it twice until
// the usage is read again: admission then errs on the side of refusing.)
func (c *Cloud) countVM(inst *instancehub.Instance, err error) {
	if err != nil || inst.VCPUs <= 0 || inst.Family == "" {
		c.usageCache.clear()
		return
	}
	c.usageCache.adjust(inst.Region, func(v any) any {
		usages := slices.Clone(v.([]instancehub.Usage))
		for i, u := range usages {
			if strings.EqualFold(u.Name, inst.Family) || u.Name == instancehub.TotalRegionalVCPUs {
				usages[i].Current += inst.VCPUs
			}
		}
		return usages
	})
}

func (c *Cloud) beginStep(ctx context.Context, op instancehub.OperationKind, step string, inst *instancehub.Instance) (string, error) {
	rg, name := c.cfg.ResourceGroup, inst.Name
	if op == instancehub.OpCreate {
		// Before making anything, make sure the VM's name is not taken by
		// someone else's VM; then check each resource as it comes.
		if step == c.Steps(op, inst)[0] {
			if err := c.guard(ctx, StepVirtualMachine, inst); err != nil {
				return "", err
			}
		}
		if step != StepVirtualNetwork && step != StepAppSecret { // the VM's own extension: the VM was guarded
			if err := c.guard(ctx, step, inst); err != nil {
				return "", err
			}
		}
	}
	switch {
	case op == instancehub.OpCreate && step == StepVirtualNetwork:
		return c.ensureSharedNetwork(ctx, inst)
	case op == instancehub.OpCreate && step == StepSecurityGroup:
		p, err := c.nsgs.BeginCreateOrUpdate(ctx, rg, nsgName(name), c.securityGroup(inst), nil)
		return begun(ctx, p, err)
	case op == instancehub.OpCreate && step == StepPublicIP:
		p, err := c.publicIPs.BeginCreateOrUpdate(ctx, rg, publicIPName(name), c.publicIP(inst), nil)
		return begun(ctx, p, err)
	case op == instancehub.OpCreate && step == StepNetworkInterface:
		p, err := c.nics.BeginCreateOrUpdate(ctx, rg, nicName(name), c.networkInterface(inst), nil)
		return begun(ctx, p, err)
	case op == instancehub.OpCreate && step == StepVirtualMachine:
		existing, err := c.vms.Get(ctx, rg, name, nil)
		if err != nil && !notFound(err) {
			return "", err
		}
		vm, err := c.virtualMachine(ctx, inst, existing.VirtualMachine)
		if err != nil {
			return "", err
		}
		p, err := c.vms.BeginCreateOrUpdate(ctx, rg, name, vm, nil)
		return begun(ctx, p, err)
	case step == StepAppSecret:
		ext, err := c.secretExtension(inst)
		if err != nil {
			return "", err
		}
		p, err := c.extensions.BeginCreateOrUpdate(ctx, rg, name, secretExtensionName, ext, nil)
		return begun(ctx, p, err)
	case op == instancehub.OpStart:
		p, err := c.vms.BeginStart(ctx, rg, name, nil)
		return begun(ctx, p, err)
	case op == instancehub.OpStop:
		p, err := c.vms.BeginDeallocate(ctx, rg, name, nil)
		return begun(ctx, p, err)
	case op == instancehub.OpRestart:
		p, err := c.vms.BeginRestart(ctx, rg, name, nil)
		return begun(ctx, p, err)
	case op == instancehub.OpDelete:
		return c.beginDelete(ctx, step, inst)
	}
	return "", fmt.Errorf("no step %q in %s", step, op)
}

// PollStep asks Azure once how a step is going, waiting out throttling. The
// poller is rebuilt from its token each time, so a step survives a restart
// of the portal.
func (c *Cloud) PollStep(ctx context.Context, op instancehub.OperationKind, step string, inst *instancehub.Instance, token string) (bool, error) {
	var resp *http.Response
	var done bool
	err := c.waitOut(ctx, func() error {
		var err error
		done, err = c.pollStep(policy.WithCaptureResponse(ctx, &resp), op, step, inst, token)
		return err
	})
	c.rememberRetryAfter(token, resp, done || err != nil)
	// A create's VM was counted when Azure accepted it (countVM); whatever
	// else ends, or fails, may have changed the count.
	if (done && op != instancehub.OpCreate) || err != nil {
		c.usageCache.clear()
	}
	if err != nil {
		if op == instancehub.OpDelete && notFound(err) {
			return true, nil // already gone: that is what delete wants
		}
		doing := fmt.Sprintf("%s %s of %s", op.Verb(), step, inst.Name)
		if u, ok := err.(unreachable); ok && !errors.Is(err, context.Canceled) {
			return false, &instancehub.Error{Code: instancehub.EUNAVAILABLE,
				Message: fmt.Sprintf("Azure could not tell how the %s step is going: %s", step, instancehub.ErrorMessage(cloudError(u.err, doing)))}
		}
		return done, cloudError(err, doing)
	}
	return done, nil
}

func (c *Cloud) pollStep(ctx context.Context, op instancehub.OperationKind, step string, inst *instancehub.Instance, token string) (bool, error) {
	// When resuming, the SDK ignores every argument but the token.
	rg, name := c.cfg.ResourceGroup, inst.Name
	switch {
	case op == instancehub.OpCreate && step == StepVirtualNetwork:
		p, err := c.vnets.BeginCreateOrUpdate(ctx, rg, inst.VirtualNetwork, armnetwork.VirtualNetwork{},
			&armnetwork.VirtualNetworksClientBeginCreateOrUpdateOptions{ResumeToken: token})
		done, err := polled(ctx, p, err)
		if done {
			c.catalog.forget("vnets")
		}
		return done, err
	case op == instancehub.OpCreate && step == StepSecurityGroup:
		p, err := c.nsgs.BeginCreateOrUpdate(ctx, rg, nsgName(name), armnetwork.SecurityGroup{},
			&armnetwork.SecurityGroupsClientBeginCreateOrUpdateOptions{ResumeToken: token})
		return polled(ctx, p, err)
	case op == instancehub.OpCreate && step == StepPublicIP:
		p, err := c.publicIPs.BeginCreateOrUpdate(ctx, rg, publicIPName(name), armnetwork.PublicIPAddress{},
			&armnetwork.PublicIPAddressesClientBeginCreateOrUpdateOptions{ResumeToken: token})
		return polled(ctx, p, err)
	case op == instancehub.OpCreate && step == StepNetworkInterface:
		p, err := c.nics.BeginCreateOrUpdate(ctx, rg, nicName(name), armnetwork.Interface{},
			&armnetwork.InterfacesClientBeginCreateOrUpdateOptions{ResumeToken: token})
		return polled(ctx, p, err)
	case op == instancehub.OpCreate && step == StepVirtualMachine:
		p, err := c.vms.BeginCreateOrUpdate(ctx, rg, name, armcompute.VirtualMachine{},
			&armcompute.VirtualMachinesClientBeginCreateOrUpdateOptions{ResumeToken: token})
		return polled(ctx, p, err)
	case step == StepAppSecret:
		p, err := c.extensions.BeginCreateOrUpdate(ctx, rg, name, secretExtensionName, armcompute.VirtualMachineExtension{},
			&armcompute.VirtualMachineExtensionsClientBeginCreateOrUpdateOptions{ResumeToken: token})
		return polled(ctx, p, err)
	case op == instancehub.OpStart:
		p, err := c.vms.BeginStart(ctx, rg, name, &armcompute.VirtualMachinesClientBeginStartOptions{ResumeToken: token})
		return polled(ctx, p, err)
	case op == instancehub.OpStop:
		p, err := c.vms.BeginDeallocate(ctx, rg, name, &armcompute.VirtualMachinesClientBeginDeallocateOptions{ResumeToken: token})
		return polled(ctx, p, err)
	case op == instancehub.OpRestart:
		p, err := c.vms.BeginRestart(ctx, rg, name, &armcompute.VirtualMachinesClientBeginRestartOptions{ResumeToken: token})
		return polled(ctx, p, err)
	case op == instancehub.OpDelete:
		return c.pollDelete(ctx, step, inst, token)
	}
	return false, fmt.Errorf("no step %q in %s", step, op)
}

// rememberRetryAfter keeps the Retry-After of an operation's status
// response, when it has one, for PollAfter.
func (c *Cloud) rememberRetryAfter(token string, resp *http.Response, finished bool) {
	c.pollMu.Lock()
	defer c.pollMu.Unlock()
	delete(c.retryAfter, token)
	if finished || resp == nil {
		return
	}
	if d := retryAfterOf(resp.Header, c.cfg.Now()); d > 0 {
		if c.retryAfter == nil {
			c.retryAfter = map[string]time.Duration{}
		}
		c.retryAfter[token] = d
	}
}

// PollAfter is how long the operation of token asked to be left before the
// next poll (its status response's Retry-After), 0 when it did not say.
func (c *Cloud) PollAfter(token string) time.Duration {
	c.pollMu.Lock()
	defer c.pollMu.Unlock()
	return c.retryAfter[token]
}

// unreachable marks an error in asking about an operation, as opposed to
// the operation's own failure: the first is worth asking again.
type unreachable struct{ err error }

func (u unreachable) Error() string { return u.err.Error() }
func (u unreachable) Unwrap() error { return u.err }

// begun returns the resume token of a poller Azure just created, or "" when
// the operation already finished (its error, if it failed).
func begun[T any](ctx context.Context, p *runtime.Poller[T], err error) (string, error) {
	if err != nil {
		return "", err
	}
	if p.Done() {
		_, err := p.Result(ctx)
		return "", err
	}
	return p.ResumeToken()
}

// polled polls a rehydrated poller once and reports whether it finished,
// with the operation's error if it failed. Azure answering that the
// resource is gone is an answer, not Azure being unreachable; so is Azure
// refusing to tell for lack of permission: the status URLs live under
// /providers/Microsoft.*/locations/{region}/operations at subscription
// scope, and asking again for ten minutes would fail a step that may well
// have succeeded without saying why.
func polled[T any](ctx context.Context, p *runtime.Poller[T], err error) (bool, error) {
	if err != nil {
		return false, err
	}
	if !p.Done() {
		if _, err := p.Poll(ctx); notFound(err) || refused(err) {
			return false, err
		} else if err != nil {
			return false, unreachable{err}
		}
	}
	if !p.Done() {
		return false, nil
	}
	_, err = p.Result(ctx)
	return true, err
}
