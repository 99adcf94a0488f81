package emulator

import (
	"net/http"
	"time"

	azfake "github.com/Azure/azure-sdk-for-go/sdk/azcore/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v8"
)

const apiCreateVM = "VirtualMachinesClient.BeginCreateOrUpdate"

// createOrUpdateVM handles a VM PUT: a create runs as an operation; a PUT on
// a VM that exists is an update, finished at once unless it resizes.
func (e *Emulator) createOrUpdateVM(name string, vm armcompute.VirtualMachine) (azfake.PollerResponder[armcompute.VirtualMachinesClientCreateOrUpdateResponse], azfake.ErrorResponder) {
	var done *armcompute.VirtualMachinesClientCreateOrUpdateResponse
	err := e.withCloud(func(c *cloud, now time.Time) error {
		put, err := c.checkVM(name, vm, e.quota, e.images())
		if err != nil {
			return err
		}
		r, err := c.applyVM(put, now)
		if err != nil {
			return err
		}
		fault := e.takeFault(apiCreateVM, name, true)
		t := vmPutTransition(put.old, r)
		if t.noop && fault == nil {
			r.Ops.set(kindPut, &operation{Name: t.name, Due: now, Power: r.Power})
			vm, err := c.vmModel(r, false)
			done = &armcompute.VirtualMachinesClientCreateOrUpdateResponse{VirtualMachine: vm}
			return err
		}
		e.startVMOp(c, r, kindPut, t, fault, now)
		return nil
	})
	return lro(http.StatusCreated, done, err)
}

// vmTransition is what an operation does to a VM.
type vmTransition struct {
	name   string        // operation name, for messages
	state  string        // provisioning state while it runs
	during string        // power state while it runs
	after  string        // power state once it succeeded
	time   time.Duration // at Latency 1
	noop   bool          // the VM is already there: it succeeds at once
}

// vmPutTransition: a create boots the VM; an update of a healthy VM with the
// same size changes nothing that takes time; a resize restarts it.
func vmPutTransition(old *resource, r *resource) vmTransition {
	switch {
	case old == nil:
		return vmTransition{name: "create", state: stateCreating, after: "running", time: createVMTime}
	case old.State == stateFailed && old.Power == "":
		return vmTransition{name: "create", state: stateUpdating, after: "running", time: createVMTime}
	case old.Size != r.Size:
		return vmTransition{name: "update", state: stateUpdating, during: old.Power, after: old.Power, time: vmActionTime}
	}
	return vmTransition{name: "update", state: stateUpdating, during: old.Power, after: old.Power, time: vmActionTime,
		noop: old.State == stateSucceeded}
}

// vmAction starts, deallocates, restarts or deletes a VM. done reports an
// action that had nothing to do and so finished at once.
func (e *Emulator) vmAction(api, name, kind string) (done bool, err error) {
	err = e.withCloud(func(c *cloud, now time.Time) error {
		r := c.get(typeVM, name)
		if r == nil {
			return notFound(typeVM, name, c.ResourceGroup)
		}
		if op := r.active(); op != nil {
			switch {
			case r.Active == kindDelete && kind == kindDelete:
				return nil // joins the deletion in progress, as ARM does
			case kind == kindDelete && r.Active != kindPut:
				c.preempt(r)
			default:
				return busyVM(r, op, kind)
			}
		}
		t, err := vmActionTransition(r, kind)
		if err != nil {
			return err
		}
		fault := e.takeFault(api, name, true)
		if t.noop && fault == nil {
			r.Ops.set(kind, &operation{Name: kind, Due: now, Power: r.Power})
			c.touch(r)
			done = true
			return nil
		}
		e.startVMOp(c, r, kind, t, fault, now)
		return nil
	})
	return done, err
}

func vmActionTransition(r *resource, kind string) (vmTransition, error) {
	settled := r.State == stateSucceeded
	switch kind {
	case kindStart:
		return vmTransition{name: kind, state: stateUpdating, during: "starting", after: "running", time: vmActionTime,
			noop: settled && r.Power == "running"}, nil
	case kindDeallocate:
		return vmTransition{name: kind, state: stateUpdating, during: "deallocating", after: "deallocated", time: vmActionTime,
			noop: settled && r.Power == "deallocated"}, nil
	case kindRestart:
		if r.Power != "running" {
			return vmTransition{}, armErr(http.StatusConflict, "OperationNotAllowed",
				"Operation 'restart' is not allowed on VM '%s' since the VM is deallocated or marked to be deallocated.", r.Name)
		}
		return vmTransition{name: kind, state: stateUpdating, during: "starting", after: "running", time: vmActionTime}, nil
	}
	return vmTransition{name: kind, state: stateDeleting, during: r.Power, after: r.Power, time: vmActionTime}, nil
}

// preempt ends the power action in progress on r for a delete, as compute
// lets a delete preempt a start, deallocate or restart. The action is
// forgotten with the VM: its pollers then hear ResourceNotFound.
func (c *cloud) preempt(r *resource) {
	r.Power = r.active().Before
	r.Ops.drop(r.Active)
	c.idx.setActive(r, "")
	c.touch(r)
}

// busyVM refuses an operation on a VM while another runs, as compute does.
func busyVM(r *resource, op *operation, kind string) error {
	if r.Active == kindDelete {
		return armErr(http.StatusConflict, "OperationNotAllowed",
			"Operation '%s' is not allowed on VM '%s' since the VM is marked for deletion. You can only retry the Delete operation (or wait for an ongoing one to complete).",
			opLabel(kind), r.Name)
	}
	// Compute's documented refusal: OperationNotAllowed, "…since another
	// operation is in progress" (the operation named, to help people).
	return armErr(http.StatusConflict, "OperationNotAllowed",
		"Operation '%s' is not allowed on VM '%s' since another operation is in progress ('%s'). Please retry after the operation completes.",
		opLabel(kind), r.Name, op.Name)
}

func opLabel(kind string) string {
	if kind == kindPut {
		return "update"
	}
	return kind
}

// startVMOp puts r in the transition's running state; it ends by time, failed
// with fault if there is one.
func (e *Emulator) startVMOp(c *cloud, r *resource, kind string, t vmTransition, fault *armError, now time.Time) {
	op := &operation{Name: t.name, Due: now.Add(e.scale(t.time)), Fail: fault, Power: t.after, Before: r.Power}
	c.begin(r, kind, op, t.state, t.during, now)
}
