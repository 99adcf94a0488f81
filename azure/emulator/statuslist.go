package emulator

import (
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

// listsStatuses reports whether a request is a page of the status list.
func listsStatuses(req *http.Request, api string) bool {
	return api == apiListAllVMs && strings.EqualFold(req.URL.Query().Get("statusOnly"), "true")
}

// statusPage answers one page of the status list.
func (e *Emulator) statusPage(req *http.Request) (*http.Response, error) {
	var page statusListing
	err := e.withCloud(func(c *cloud, _ time.Time) error {
		keys := c.idx.names[typeVM]
		from, found := slices.BinarySearch(keys, req.URL.Query().Get("$skiptoken"))
		if found {
			from++
		}
		to := min(from+e.opts.PageSize, len(keys))
		page.Value = make([]vmStatus, 0, to-from)
		for _, k := range keys[from:to] {
			page.Value = append(page.Value, c.vmStatus(c.Resources[k]))
		}
		if to < len(keys) {
			next := *req.URL
			q := next.Query()
			q.Set("$skiptoken", keys[to-1])
			next.RawQuery = q.Encode()
			page.NextLink = next.String()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return newResponse(req, http.StatusOK, mustJSON(page)), nil
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
