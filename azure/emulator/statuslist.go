package emulator

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"
)

// apiListAllVMs is the subscription-wide VM list, which the portal's Refresh
// reads with statusOnly=true.
const apiListAllVMs = "VirtualMachinesClient.NewListAllPager"

// The front door answers that status list itself, a page at a time, as
// ARM does: each page starts after the VM its $skiptoken names, so a
// listing of 10,000 VMs builds 100 VMs per call instead of every VM at its
// first, and holds nothing between calls. The fake would marshal the SDK's
// models, whose MarshalJSON builds a map per object: three quarters of the
// emulator's time for a Refresh. Pages are plain structs of what
// statusOnly returns.

// statusListing is a page of the status list.
type statusListing struct {
	Value    []vmStatus `json:"value"`
	NextLink string     `json:"nextLink,omitempty"`
}

// vmStatus is a VM as statusOnly=true lists it: what identifies it and its
// statuses.
type vmStatus struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Type       string `json:"type"`
	Location   string `json:"location"`
	Properties struct {
		InstanceView struct {
			Statuses []statusLine `json:"statuses"`
		} `json:"instanceView"`
	} `json:"properties"`
}

// statusLine is one status of an instance view.
type statusLine struct {
	Code          string     `json:"code"`
	Level         string     `json:"level"`
	DisplayStatus string     `json:"displayStatus"`
	Message       string     `json:"message,omitempty"`
	Time          *time.Time `json:"time,omitempty"`
}

// apiListVMs is the resource group's VM list, which the portal's Refresh
// and adoption read with $expand=instanceView.
const apiListVMs = "VirtualMachinesClient.NewListPager"

// listsStatuses reports whether a request is a page of the status list.
func listsStatuses(req *http.Request, api string) bool {
	return api == apiListAllVMs && strings.EqualFold(req.URL.Query().Get("statusOnly"), "true")
}

// listsGroupVMs reports whether a request is a page of the resource group's
// VMs with their instance views.
func listsGroupVMs(req *http.Request, api string) bool {
	return api == apiListVMs && strings.EqualFold(req.URL.Query().Get("$expand"), "instanceView")
}

// statusPage answers one page of the status list.
func (e *Emulator) statusPage(req *http.Request) (*http.Response, error) {
	var page statusListing
	err := e.page(req, func(c *cloud, r *resource) error {
		page.Value = append(page.Value, c.vmStatus(r))
		return nil
	}, &page.NextLink)
	if err != nil {
		return nil, err
	}
	return newResponse(req, http.StatusOK, mustJSON(page)), nil
}

// groupPage answers one page of the resource group's VMs, each as GET with
// $expand=instanceView returns it (vmModel), built from its stored body
// without the SDK's models, whose marshalling made a Refresh of 1,000 VMs
// eight times slower.
func (e *Emulator) groupPage(req *http.Request) (*http.Response, error) {
	var page struct {
		Value    []json.RawMessage `json:"value"`
		NextLink string            `json:"nextLink,omitempty"`
	}
	page.Value = []json.RawMessage{}
	err := e.page(req, func(c *cloud, r *resource) error {
		vm, err := c.listedVM(r)
		page.Value = append(page.Value, vm)
		return err
	}, &page.NextLink)
	if err != nil {
		return nil, err
	}
	return newResponse(req, http.StatusOK, mustJSON(page)), nil
}

// page calls each for the VMs of one page of a list, in name order, starting
// after the VM its $skiptoken names, and sets next to the next page's link
// when there is one.
func (e *Emulator) page(req *http.Request, each func(*cloud, *resource) error, next *string) error {
	return e.withCloud(func(c *cloud, _ time.Time) error {
		keys := c.idx.names[typeVM]
		from, found := slices.BinarySearch(keys, req.URL.Query().Get("$skiptoken"))
		if found {
			from++
		}
		to := min(from+e.opts.PageSize, len(keys))
		for _, k := range keys[from:to] {
			if err := each(c, c.Resources[k]); err != nil {
				return err
			}
		}
		if to < len(keys) {
			u := *req.URL
			q := u.Query()
			q.Set("$skiptoken", keys[to-1])
			u.RawQuery = q.Encode()
			*next = u.String()
		}
		return nil
	})
}

// listedVM is r as vmModel returns it with its instance view, in JSON: the
// stored body with the provisioning state, the instance view and a
// system-assigned identity's principal set.
func (c *cloud) listedVM(r *resource) (json.RawMessage, error) {
	body, err := c.bodyOf(r)
	if err != nil {
		return nil, err
	}
	var vm, props map[string]json.RawMessage
	if err := json.Unmarshal(body, &vm); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(vm["properties"], &props); err != nil || props == nil {
		props = map[string]json.RawMessage{}
	}
	var osProfile struct {
		ComputerName string `json:"computerName,omitempty"`
	}
	_ = json.Unmarshal(props["osProfile"], &osProfile)
	props["provisioningState"] = mustJSON(r.State)
	props["instanceView"] = mustJSON(struct {
		ComputerName string       `json:"computerName,omitempty"`
		Statuses     []statusLine `json:"statuses"`
	}{osProfile.ComputerName, statusLines(r)})
	vm["properties"] = mustJSON(props)
	if id, ok := vm["identity"]; ok {
		var identity map[string]json.RawMessage
		var kind string
		if json.Unmarshal(id, &identity) == nil && json.Unmarshal(identity["type"], &kind) == nil && strings.Contains(kind, "SystemAssigned") {
			identity["principalId"], identity["tenantId"] = mustJSON(fakeGUID("principal/"+r.Name)), mustJSON(fakeGUID("tenant"))
			vm["identity"] = mustJSON(identity)
		}
	}
	return mustJSON(vm), nil
}

func (c *cloud) vmStatus(r *resource) vmStatus {
	s := vmStatus{ID: c.id(typeVM, r.Name), Name: r.Name, Type: "Microsoft.Compute/virtualMachines", Location: r.Location}
	s.Properties.InstanceView.Statuses = statusLines(r)
	return s
}

// statusLines are "ProvisioningState/<state>[/<code>]" and, once the VM has
// one, "PowerState/<state>".
func statusLines(r *resource) []statusLine {
	state := strings.ToLower(r.State)
	changed := r.Changed.UTC()
	ps := statusLine{Code: "ProvisioningState/" + state, Level: "Info", DisplayStatus: "Provisioning " + state, Time: &changed}
	if f := r.Failure; f != nil && r.State == stateFailed {
		ps.Code += "/" + f.Code
		ps.Level, ps.Message = "Error", f.Message
	}
	lines := []statusLine{ps}
	if r.Power != "" {
		lines = append(lines, statusLine{Code: "PowerState/" + r.Power, Level: "Info", DisplayStatus: "VM " + r.Power})
	}
	return lines
}
