package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
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
	err := e.page(req, func(c *cloud, rs []*resource) error {
		for _, r := range rs {
			page.Value = append(page.Value, c.vmStatus(r))
		}
		return nil
	}, &page.NextLink)
	if err != nil {
		return nil, err
	}
	return newResponse(req, http.StatusOK, mustJSON(page)), nil
}

// listedExtra is about what writeListedVM adds to a VM's stored body: its
// provisioning state and instance view.
const listedExtra = 512

// groupPage answers one page of the resource group's VMs, each as GET with
// $expand=instanceView returns it (vmModel), written from its stored body
// without the SDK's models, whose marshalling made a Refresh of 1,000 VMs
// eight times slower, and without decoding the body into maps: each VM is
// its stored body with what is computed on read spliced into it, written
// straight into the page.
func (e *Emulator) groupPage(req *http.Request) (*http.Response, error) {
	buf := pages.Get().(*bytes.Buffer)
	buf.Reset()
	buf.WriteString(`{"value":[`)
	var next string
	first := true
	err := e.page(req, func(c *cloud, rs []*resource) error {
		bodies, err := c.bodiesOf(rs)
		if err != nil {
			return err
		}
		// The page is sized once, to its bodies and their instance views:
		// grown by doubling, its copies and clearing were a third of the
		// emulator's time in a Refresh of 100,000 VMs.
		size := 0
		for _, b := range bodies {
			size += len(b) + listedExtra
		}
		buf.Grow(size)
		for i, r := range rs {
			if !first {
				buf.WriteByte(',')
			}
			first = false
			if err := c.writeListedVM(buf, r, bodies[i]); err != nil {
				return err
			}
		}
		return nil
	}, &next)
	if err != nil {
		pages.Put(buf)
		return nil, err
	}
	buf.WriteByte(']')
	if next != "" {
		buf.WriteString(`,"nextLink":`)
		buf.Write(mustJSON(next))
	}
	buf.WriteByte('}')
	resp := newResponse(req, http.StatusOK, buf.Bytes())
	resp.Body = &pageBody{Reader: bytes.NewReader(buf.Bytes()), buf: buf}
	return resp, nil
}

// pages are the buffers of pages of the VM list whose answers were read
// and closed, to write the next pages into: a Refresh of 100,000 VMs
// allocated 300 MB of pages, and the emulator's collector, scanning its
// large heap of resources at every cycle, was a third of its CPU.
var pages = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// pageBody is the body of a page of the list, whose buffer goes back to
// pages when closed, once.
type pageBody struct {
	*bytes.Reader
	buf *bytes.Buffer
}

func (b *pageBody) Close() error {
	if b.buf != nil {
		b.Reader.Reset(nil)
		pages.Put(b.buf)
		b.buf = nil
	}
	return nil
}

// page calls each with the VMs of one page of a list, in name order,
// starting after the VM its $skiptoken names, and sets next to the next
// page's link when there is one.
func (e *Emulator) page(req *http.Request, each func(*cloud, []*resource) error, next *string) error {
	return e.withCloud(func(c *cloud, _ time.Time) error {
		keys := c.idx.names[typeVM]
		from, found := slices.BinarySearch(keys, req.URL.Query().Get("$skiptoken"))
		if found {
			from++
		}
		to := min(from+e.opts.PageSize, len(keys))
		rs := make([]*resource, 0, to-from)
		for _, k := range keys[from:to] {
			rs = append(rs, c.Resources[k])
		}
		if err := each(c, rs); err != nil {
			return err
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

// writeListedVM writes r as vmModel returns it with its instance view, in
// JSON, from its stored body: the body's members as they are, but the
// properties, whose own members are copied but for the two computed ones
// (provisioningState and instanceView), written after them; and a
// system-assigned identity, given the principal Azure gives it.
func (c *cloud) writeListedVM(w *bytes.Buffer, r *resource, body []byte) error {
	w.WriteByte('{')
	first, hasProperties := true, false
	err := members(body, func(m member) error {
		switch {
		case m.is("properties"):
			hasProperties = true
			return c.writeListedProperties(w, &first, m, r)
		case m.is("identity"):
			writeMember(w, &first, m.name, listedIdentity(m.value, r))
		default:
			writeMember(w, &first, m.name, m.value)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("emulator: list %s: %w", r.Name, err)
	}
	if !hasProperties { // as vmModel, which reads into a model with no properties
		if err := c.writeListedProperties(w, &first, member{name: []byte(`"properties"`), value: []byte("null")}, r); err != nil {
			return err
		}
	}
	w.WriteByte('}')
	return nil
}

// writeListedProperties writes the VM's properties from the stored ones,
// with its provisioning state and instance view in place of any stored.
func (c *cloud) writeListedProperties(w *bytes.Buffer, outer *bool, props member, r *resource) error {
	writeMember(w, outer, props.name, nil)
	w.WriteByte('{')
	first := true
	var osProfile []byte
	if string(props.value) != "null" {
		err := members(props.value, func(m member) error {
			switch {
			case m.is("provisioningState"), m.is("instanceView"):
				return nil
			case m.is("osProfile"):
				osProfile = m.value
			}
			writeMember(w, &first, m.name, m.value)
			return nil
		})
		if err != nil {
			return fmt.Errorf("properties: %w", err)
		}
	}
	// Written straight into the page: marshalled apart, each VM's
	// were allocated and copied, a tenth of the emulator's time in a
	// Refresh with the collection they made.
	writeMember(w, &first, []byte(`"provisioningState"`), nil)
	writeJSON(w, r.State)
	writeMember(w, &first, []byte(`"instanceView"`), nil)
	writeInstanceView(w, osProfile, r)
	w.WriteByte('}')
	return nil
}

// listedView is the instance view a VM is listed with.
type listedView struct {
	ComputerName string       `json:"computerName,omitempty"`
	Statuses     []statusLine `json:"statuses"`
}

// writeInstanceView writes the instance view r is listed with, its
// computer name read from its OS profile (nil if none), as writeJSON
// writes listedView. Every VM's but a failed one's is written by hand,
// its strings as they are when none needs escaping: through the
// marshalling of listedView and the decoding of its computer name, it
// was a third of the emulator's time in writing a page.
func writeInstanceView(w *bytes.Buffer, osProfile []byte, r *resource) {
	name := rawComputerName(osProfile)
	if r.State == stateFailed || len(name) > 0 && !plain(name[1:len(name)-1]) || !plain(r.State) || !plain(r.Power) {
		view := listedView{Statuses: statusLines(r)}
		_ = json.Unmarshal(name, &view.ComputerName) // none: ""
		writeJSON(w, view)
		return
	}
	w.WriteByte('{')
	if len(name) > 2 { // not ""
		w.WriteString(`"computerName":`)
		w.Write(name)
		w.WriteByte(',')
	}
	w.WriteString(`"statuses":[{"code":"ProvisioningState/`)
	lowerInto(w, r.State)
	w.WriteString(`","level":"Info","displayStatus":"Provisioning `)
	lowerInto(w, r.State)
	w.WriteString(`","time":"`)
	w.Write(r.Changed.UTC().AppendFormat(w.AvailableBuffer(), time.RFC3339Nano))
	w.WriteString(`"}`)
	if r.Power != "" {
		w.WriteString(`,{"code":"PowerState/`)
		w.WriteString(r.Power)
		w.WriteString(`","level":"Info","displayStatus":"VM `)
		w.WriteString(r.Power)
		w.WriteString(`"}`)
	}
	w.WriteString(`]}`)
}

// lowerInto writes s in lower case, as strings.ToLower has it for ASCII.
func lowerInto(w *bytes.Buffer, s string) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		w.WriteByte(c)
	}
}

// plain says s is written the same whether quoted by hand or by the JSON
// marshalling: printable ASCII, with nothing it escapes (quotes,
// backslashes, and <, > and & as HTML's). A computer name's JSON that is
// plain within its quotes holds the name itself.
func plain[T string | []byte](s T) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c >= 0x7f, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return false
		}
	}
	return true
}

// rawComputerName is the computer name in an OS profile as its JSON holds
// it, quotes included; nil if it holds none, or not as a string.
func rawComputerName(osProfile []byte) (name []byte) {
	if osProfile == nil {
		return nil
	}
	_ = members(osProfile, func(m member) error {
		if m.is("computerName") {
			if len(m.value) >= 2 && m.value[0] == '"' {
				name = m.value
			}
			return errFound
		}
		return nil
	})
	return name
}

// errFound ends a scan of members that found what it looked for.
var errFound = errors.New("found")

// listedIdentity is the VM's identity, a system-assigned one with the
// principal Azure gives it.
func listedIdentity(v []byte, r *resource) []byte {
	var identity map[string]json.RawMessage
	var kind string
	if json.Unmarshal(v, &identity) == nil && json.Unmarshal(identity["type"], &kind) == nil && strings.Contains(kind, "SystemAssigned") {
		identity["principalId"], identity["tenantId"] = mustJSON(fakeGUID("principal/"+r.Name)), mustJSON(fakeGUID("tenant"))
		return mustJSON(identity)
	}
	return v
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
