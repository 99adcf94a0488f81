package azure

import (
	"context"
	"fmt"

	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v8"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v9"
	"github.com/instancehub/instancehub"
)

// beginDelete removes one resource of the instance, after checking that the
// portal made it. A resource already gone, or not the portal's, is skipped.
func (c *Cloud) beginDelete(ctx context.Context, step string, inst *instancehub.Instance) (string, error) {
	tags, err := c.resourceTags(ctx, step, inst)
	if notFound(err) {
		return "", nil
	} else if err != nil {
		return "", err
	}
	if !c.ours(tags, inst) {
		return "", nil
	}
	token, err := c.deleteResource(ctx, step, inst)
	if notFound(err) {
		return "", nil
	}
	return token, err
}

func (c *Cloud) deleteResource(ctx context.Context, step string, inst *instancehub.Instance) (string, error) {
	rg, name := c.cfg.ResourceGroup, inst.Name
	switch step {
	case StepVirtualMachine:
		p, err := c.vms.BeginDelete(ctx, rg, name, nil)
		return begun(ctx, p, err)
	case StepNetworkInterface:
		p, err := c.nics.BeginDelete(ctx, rg, nicName(name), nil)
		return begun(ctx, p, err)
	case StepPublicIP:
		p, err := c.publicIPs.BeginDelete(ctx, rg, publicIPName(name), nil)
		return begun(ctx, p, err)
	case StepSecurityGroup:
		p, err := c.nsgs.BeginDelete(ctx, rg, nsgName(name), nil)
		return begun(ctx, p, err)
	}
	return "", fmt.Errorf("no step %q in delete", step)
}

func (c *Cloud) pollDelete(ctx context.Context, step string, inst *instancehub.Instance, token string) (bool, error) {
	rg, name := c.cfg.ResourceGroup, inst.Name
	switch step {
	case StepVirtualMachine:
		p, err := c.vms.BeginDelete(ctx, rg, name, &armcompute.VirtualMachinesClientBeginDeleteOptions{ResumeToken: token})
		return polled(ctx, p, err)
	case StepNetworkInterface:
		p, err := c.nics.BeginDelete(ctx, rg, nicName(name), &armnetwork.InterfacesClientBeginDeleteOptions{ResumeToken: token})
		return polled(ctx, p, err)
	case StepPublicIP:
		p, err := c.publicIPs.BeginDelete(ctx, rg, publicIPName(name), &armnetwork.PublicIPAddressesClientBeginDeleteOptions{ResumeToken: token})
		return polled(ctx, p, err)
	case StepSecurityGroup:
		p, err := c.nsgs.BeginDelete(ctx, rg, nsgName(name), &armnetwork.SecurityGroupsClientBeginDeleteOptions{ResumeToken: token})
		return polled(ctx, p, err)
	}
	return false, fmt.Errorf("no step %q in delete", step)
}

// guard refuses to create over a resource of the same name that the portal
// did not make: a PUT would silently take it over.
func (c *Cloud) guard(ctx context.Context, step string, inst *instancehub.Instance) error {
	tags, err := c.resourceTags(ctx, step, inst)
	switch {
	case notFound(err):
		return nil
	case err != nil:
		return err
	case !c.ours(tags, inst):
		return &instancehub.Error{Code: instancehub.ECONFLICT, CloudCode: "ResourceNotOwned", Message: fmt.Sprintf(
			"A %s of that name already exists in resource group %s and instancehub did not make it; choose another name for the instance.",
			step, c.cfg.ResourceGroup)}
	}
	return nil
}

func (c *Cloud) resourceTags(ctx context.Context, step string, inst *instancehub.Instance) (map[string]*string, error) {
	rg, name := c.cfg.ResourceGroup, inst.Name
	switch step {
	case StepVirtualMachine:
		r, err := c.vms.Get(ctx, rg, name, nil)
		return r.Tags, err
	case StepNetworkInterface:
		r, err := c.nics.Get(ctx, rg, nicName(name), nil)
		return r.Tags, err
	case StepPublicIP:
		r, err := c.publicIPs.Get(ctx, rg, publicIPName(name), nil)
		return r.Tags, err
	case StepSecurityGroup:
		r, err := c.nsgs.Get(ctx, rg, nsgName(name), nil)
		return r.Tags, err
	}
	return nil, fmt.Errorf("no step %q in delete", step)
}
