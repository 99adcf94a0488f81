package emulator

import (
	"bytes"
	"encoding/json"
	"encoding/json/jsontext"
	"errors"
	"fmt"
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
// $expand=instanceView returns it (vmModel), written from its stored body
// without the SDK's models, whose marshalling made a Refresh of 1,000 VMs
// eight times slower, and without decoding the body into maps: each VM is
// its stored body with what is computed on read spliced into it, written
// straight into the page.
func (e *Emulator) groupPage(req *http.Request) (*http.Response, error) {
	var buf bytes.Buffer
	buf.WriteString(`{"value":[`)
	var next string
	first := true
	err := e.page(req, func(c *cloud, r *resource) error {
		if !first {
			buf.WriteByte(',')
		}
		first = false
		return c.writeListedVM(&buf, r)
	}, &next)
	if err != nil {
		return nil, err
	}
	buf.WriteByte(']')
	if next != "" {
		buf.WriteString(`,"nextLink":`)
		buf.Write(mustJSON(next))
	}
	buf.WriteByte('}')
	return newResponse(req, http.StatusOK, buf.Bytes()), nil
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

// writeListedVM writes r as vmModel returns it with its instance view, in
// JSON: the stored body with the provisioning state, the instance view and
// a system-assigned identity's principal set. The body's members are copied
// as they are, but for properties, whose own members are copied but for
// the two computed ones, written after them.
func (c *cloud) writeListedVM(w *bytes.Buffer, r *resource) error {
	body, err := c.bodyOf(r)
	if err != nil {
		return err
	}
	dec := jsontext.NewDecoder(bytes.NewReader(body))
	enc := jsontext.NewEncoder(w)
	hasProperties := false
	own := func(name string) error {
		switch name {
		case "properties":
			hasProperties = true
			return c.writeListedProperties(dec, enc, r)
		case "identity":
			return writeIdentity(dec, enc, r)
		}
		return errOwnNot
	}
	tail := func() error { // as vmModel, which reads into a model with no properties
		if hasProperties {
			return nil
		}
		if err := enc.WriteToken(jsontext.String("properties")); err != nil {
			return err
		}
		if err := enc.WriteToken(jsontext.BeginObject); err != nil {
			return err
		}
		return writeComputed(enc, r, "")
	}
	if err := copyMembers(dec, enc, own, tail); err != nil {
		return fmt.Errorf("emulator: list %s: %w", r.Name, err)
	}
	// The encoder ends each top-level value with a newline.
	if n := w.Len(); n > 0 && w.Bytes()[n-1] == '\n' {
		w.Truncate(n - 1)
	}
	return nil
}

// copyMembers copies the object dec reads next to enc, a member at a time;
// own writes the value of a member it wants written otherwise, from dec, and
// returns errOwnNot for the others; tail writes any members to add at the end.
func copyMembers(dec *jsontext.Decoder, enc *jsontext.Encoder, own func(name string) error, tail func() error) error {
	tok, err := dec.ReadToken()
	if err != nil {
		return err
	}
	if tok.Kind() != '{' {
		return fmt.Errorf("want an object, got %v", tok.Kind())
	}
	if err := enc.WriteToken(jsontext.BeginObject); err != nil {
		return err
	}
	for dec.PeekKind() != '}' {
		tok, err := dec.ReadToken()
		if err != nil {
			return err
		}
		name := tok.String() // before dec reads on
		if err := enc.WriteToken(jsontext.String(name)); err != nil {
			return err
		}
		if err := own(name); err == nil {
			continue
		} else if err != errOwnNot {
			return err
		}
		v, err := dec.ReadValue()
		if err != nil {
			return err
		}
		if err := enc.WriteValue(v); err != nil {
			return err
		}
	}
	if _, err := dec.ReadToken(); err != nil {
		return err
	}
	if err := tail(); err != nil {
		return err
	}
	return enc.WriteToken(jsontext.EndObject)
}

// errOwnNot is copyMembers' own's answer for a member to copy as it is.
var errOwnNot = errors.New("copy")

// writeListedProperties writes the VM's properties from the stored ones,
// with its provisioning state and instance view in place of any stored.
func (c *cloud) writeListedProperties(dec *jsontext.Decoder, enc *jsontext.Encoder, r *resource) error {
	if dec.PeekKind() == 'n' { // as vmModel, which reads into a model with no properties
		if _, err := dec.ReadToken(); err != nil {
			return err
		}
		if err := enc.WriteToken(jsontext.BeginObject); err != nil {
			return err
		}
		return writeComputed(enc, r, "")
	}
	tok, err := dec.ReadToken()
	if err != nil {
		return err
	}
	if tok.Kind() != '{' {
		return fmt.Errorf("properties: want an object, got %v", tok.Kind())
	}
	if err := enc.WriteToken(jsontext.BeginObject); err != nil {
		return err
	}
	var computerName string
	for dec.PeekKind() != '}' {
		tok, err := dec.ReadToken()
		if err != nil {
			return err
		}
		name := tok.String() // before dec reads on
		v, err := dec.ReadValue()
		if err != nil {
			return err
		}
		switch name {
		case "provisioningState", "instanceView":
			continue
		case "osProfile":
			var osProfile struct {
				ComputerName string `json:"computerName,omitempty"`
			}
			_ = json.Unmarshal(v, &osProfile)
			computerName = osProfile.ComputerName
		}
		if err := enc.WriteToken(jsontext.String(name)); err != nil {
			return err
		}
		if err := enc.WriteValue(v); err != nil {
			return err
		}
	}
	if _, err := dec.ReadToken(); err != nil {
		return err
	}
	return writeComputed(enc, r, computerName)
}

// writeComputed writes the provisioning state and the instance view, and
// ends the properties.
func writeComputed(enc *jsontext.Encoder, r *resource, computerName string) error {
	view := mustJSON(struct {
		ComputerName string       `json:"computerName,omitempty"`
		Statuses     []statusLine `json:"statuses"`
	}{computerName, statusLines(r)})
	for _, t := range []jsontext.Token{jsontext.String("provisioningState"), jsontext.String(r.State), jsontext.String("instanceView")} {
		if err := enc.WriteToken(t); err != nil {
			return err
		}
	}
	if err := enc.WriteValue(view); err != nil {
		return err
	}
	return enc.WriteToken(jsontext.EndObject)
}

// writeIdentity writes the VM's identity, a system-assigned one with the
// principal Azure gives it.
func writeIdentity(dec *jsontext.Decoder, enc *jsontext.Encoder, r *resource) error {
	v, err := dec.ReadValue()
	if err != nil {
		return err
	}
	var identity map[string]json.RawMessage
	var kind string
	if json.Unmarshal(v, &identity) == nil && json.Unmarshal(identity["type"], &kind) == nil && strings.Contains(kind, "SystemAssigned") {
		identity["principalId"], identity["tenantId"] = mustJSON(fakeGUID("principal/"+r.Name)), mustJSON(fakeGUID("tenant"))
		v = mustJSON(identity)
	}
	return enc.WriteValue(v)
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
