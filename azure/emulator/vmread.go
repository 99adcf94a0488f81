package emulator

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"strings"
	"time"

	azfake "github.com/Azure/azure-sdk-for-go/sdk/azcore/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v8"
)

// vmModel is a VM as GET returns it, with its instance view if asked.
func (c *cloud) vmModel(r *resource, expand bool) (armcompute.VirtualMachine, error) {
	var vm armcompute.VirtualMachine
	if err := c.read(r, &vm); err != nil {
		return vm, err
	}
	vm.Properties.ProvisioningState = to.Ptr(r.State)
	if id := vm.Identity; id != nil && id.Type != nil && strings.Contains(string(*id.Type), "SystemAssigned") {
		// Azure gives a system-assigned identity a principal in the
		// subscription's tenant; the emulator makes one up from the name.
		id.PrincipalID, id.TenantID = to.Ptr(fakeGUID("principal/"+r.Name)), to.Ptr(fakeGUID("tenant"))
	}
	if expand {
		vm.Properties.InstanceView = instanceView(r, vm)
	}
	return vm, nil
}

// vmReader reads VMs as GET returns them, with their instance views if asked.
func vmReader(expand bool) func(*cloud, *resource) (armcompute.VirtualMachine, error) {
	return func(c *cloud, r *resource) (armcompute.VirtualMachine, error) { return c.vmModel(r, expand) }
}

// instanceView holds the statuses power states are read from, with Azure's codes.
func instanceView(r *resource, vm armcompute.VirtualMachine) *armcompute.VirtualMachineInstanceView {
	iv := &armcompute.VirtualMachineInstanceView{Statuses: statuses(r)}
	if osp := vm.Properties.OSProfile; osp != nil {
		iv.ComputerName = osp.ComputerName
	}
	return iv
}

// statuses are a VM's status lines in the SDK's types.
func statuses(r *resource) []*armcompute.InstanceViewStatus {
	var out []*armcompute.InstanceViewStatus
	for _, l := range statusLines(r) {
		s := &armcompute.InstanceViewStatus{Code: to.Ptr(l.Code), Level: to.Ptr(armcompute.StatusLevelTypes(l.Level)),
			DisplayStatus: to.Ptr(l.DisplayStatus), Time: l.Time}
		if l.Message != "" {
			s.Message = to.Ptr(l.Message)
		}
		out = append(out, s)
	}
	return out
}

func (e *Emulator) getVM(_ context.Context, _, name string, opts *armcompute.VirtualMachinesClientGetOptions) (azfake.Responder[armcompute.VirtualMachinesClientGetResponse], azfake.ErrorResponder) {
	expand := opts != nil && opts.Expand != nil && *opts.Expand == armcompute.InstanceViewTypesInstanceView
	vm, err := readOne(e, typeVM, name, vmReader(expand))
	return respond(armcompute.VirtualMachinesClientGetResponse{VirtualMachine: vm}, err)
}

func (e *Emulator) vmInstanceView(_ context.Context, _, name string, _ *armcompute.VirtualMachinesClientInstanceViewOptions) (azfake.Responder[armcompute.VirtualMachinesClientInstanceViewResponse], azfake.ErrorResponder) {
	vm, err := readOne(e, typeVM, name, vmReader(true))
	var out armcompute.VirtualMachinesClientInstanceViewResponse
	if err == nil {
		out.VirtualMachineInstanceView = *vm.Properties.InstanceView
	}
	return respond(out, err)
}

func (e *Emulator) listVMs(_ string, opts *armcompute.VirtualMachinesClientListOptions) azfake.PagerResponder[armcompute.VirtualMachinesClientListResponse] {
	expand := opts != nil && opts.Expand != nil && *opts.Expand == armcompute.ExpandTypeForListVMsInstanceView
	vms, err := readAll(e, typeVM, vmReader(expand))
	return pager(vms, err, e.opts.PageSize, func(v []*armcompute.VirtualMachine) armcompute.VirtualMachinesClientListResponse {
		return armcompute.VirtualMachinesClientListResponse{VirtualMachineListResult: armcompute.VirtualMachineListResult{Value: v}}
	})
}

// listAllVMs lists every VM of the subscription; the front door answers
// the status list (statusOnly=true) itself.
func (e *Emulator) listAllVMs(opts *armcompute.VirtualMachinesClientListAllOptions) azfake.PagerResponder[armcompute.VirtualMachinesClientListAllResponse] {
	expand := opts != nil && opts.Expand != nil && *opts.Expand == armcompute.ExpandTypesForListVMsInstanceView
	vms, err := readAll(e, typeVM, vmReader(expand))
	return pager(vms, err, e.opts.PageSize, func(v []*armcompute.VirtualMachine) armcompute.VirtualMachinesClientListAllResponse {
		return armcompute.VirtualMachinesClientListAllResponse{VirtualMachineListResult: armcompute.VirtualMachineListResult{Value: v}}
	})
}

// readOne reads the named resource of a type as GET returns it.
func readOne[T any](e *Emulator, typ, name string, model func(*cloud, *resource) (T, error)) (T, error) {
	var out T
	err := e.withCloud(func(c *cloud, _ time.Time) error {
		r := c.get(typ, name)
		if r == nil {
			return notFound(typ, name, c.ResourceGroup)
		}
		var err error
		out, err = model(c, r)
		return err
	})
	return out, err
}

// readAll reads every resource of a type, by name, as GET returns them.
func readAll[T any](e *Emulator, typ string, model func(*cloud, *resource) (T, error)) ([]*T, error) {
	var out []*T
	err := e.withCloud(func(c *cloud, _ time.Time) error {
		for _, r := range c.sorted(typ) {
			m, err := model(c, r)
			if err != nil {
				return err
			}
			out = append(out, &m)
		}
		return nil
	})
	return out, err
}

// respond answers a read: the value, or the error as ARM sends it.
func respond[T any](v T, err error) (r azfake.Responder[T], er azfake.ErrorResponder) {
	if err != nil {
		er.SetError(err)
		return r, er
	}
	r.SetResponse(http.StatusOK, v, nil)
	return r, er
}

// pager answers a list in pages of size items; the fake links them with
// nextLinks. An empty list is one empty page, as ARM sends.
func pager[P, T any](items []T, err error, size int, page func([]T) P) (p azfake.PagerResponder[P]) {
	if err != nil {
		p.AddError(err)
		return p
	}
	for len(items) > size {
		p.AddPage(http.StatusOK, page(items[:size]), nil)
		items = items[size:]
	}
	p.AddPage(http.StatusOK, page(items), nil)
	return p
}

// fakeGUID is a GUID that stays the same for the same seed.
func fakeGUID(seed string) string {
	b := sha256.Sum256([]byte(seed))
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
