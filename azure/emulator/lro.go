package emulator

import (
	"net/http"
	"strings"
	"time"

	azfake "github.com/Azure/azure-sdk-for-go/sdk/azcore/fake"
)

// Kinds of long-running operation. A PUT and a DELETE of a resource share one
// poll path; the API name a poll carries tells them apart.
const (
	kindPut        = "put"
	kindDelete     = "delete"
	kindStart      = "start"
	kindDeallocate = "deallocate"
	kindRestart    = "restart"
)

// How long operations take at Latency 1, roughly as in Azure.
const (
	createVMTime = 8 * time.Second
	vmActionTime = 4 * time.Second
	nsgPutTime   = 1 * time.Second
	pipPutTime   = 1500 * time.Millisecond
	nicPutTime   = 2 * time.Second
	vnetPutTime  = 2 * time.Second
	netDelTime   = 1 * time.Second
)

// pollSuffix ends the path of every poll of a fake long-running operation
// (azcore/internal/pollers/fake).
const pollSuffix = "/get/fake/status"

type lroTarget struct{ typ, kind string }

// lroTargets names, per API of a Begin method, what its polls ask about.
var lroTargets = map[string]lroTarget{
	"VirtualMachinesClient.BeginCreateOrUpdate":   {typeVM, kindPut},
	"VirtualMachinesClient.BeginDelete":           {typeVM, kindDelete},
	"VirtualMachinesClient.BeginStart":            {typeVM, kindStart},
	"VirtualMachinesClient.BeginDeallocate":       {typeVM, kindDeallocate},
	"VirtualMachinesClient.BeginRestart":          {typeVM, kindRestart},
	"InterfacesClient.BeginCreateOrUpdate":        {typeNIC, kindPut},
	"InterfacesClient.BeginDelete":                {typeNIC, kindDelete},
	"PublicIPAddressesClient.BeginCreateOrUpdate": {typePIP, kindPut},
	"PublicIPAddressesClient.BeginDelete":         {typePIP, kindDelete},
	"SecurityGroupsClient.BeginCreateOrUpdate":    {typeNSG, kindPut},
	"SecurityGroupsClient.BeginDelete":            {typeNSG, kindDelete},
	"VirtualNetworksClient.BeginCreateOrUpdate":   {typeVNet, kindPut},
	"VirtualNetworksClient.BeginDelete":           {typeVNet, kindDelete},
}

// lro answers a Begin. A refusal reaches the caller as an ARM error; a result
// ends the LRO at once; otherwise the fake answers InProgress once and forgets
// the LRO — the operation lives in the model and the front door answers its
// polls, so they survive a restart.
func lro[T any](accepted int, result *T, err error) (p azfake.PollerResponder[T], r azfake.ErrorResponder) {
	switch {
	case err != nil:
		r.SetError(err)
	case result != nil:
		p.SetTerminalResponse(http.StatusOK, *result, nil)
	default:
		p.AddNonTerminalResponse(accepted, nil)
	}
	return p, r
}

// action answers a Begin of an action or a delete, whose result is empty.
func action[T any](done bool, err error) (azfake.PollerResponder[T], azfake.ErrorResponder) {
	var result *T
	if done {
		result = new(T)
	}
	return lro(http.StatusAccepted, result, err)
}

// answerPoll answers a poll of a long-running operation from the model, by time.
func (e *Emulator) answerPoll(req *http.Request, api string) (*http.Response, error) {
	t, ok := lroTargets[api]
	if !ok {
		return nil, armErr(http.StatusBadRequest, "InvalidRequest", "The emulator runs no long-running operation for %s.", api)
	}
	name := resourceName(strings.TrimSuffix(req.URL.Path, pollSuffix))
	var resp *http.Response
	err := e.withCloud(func(c *cloud, now time.Time) error {
		r, op := c.lookupOp(t.typ, name, t.kind)
		switch {
		case op == nil && t.kind == kindDelete:
			resp = pollAnswer(req, http.StatusOK, "Succeeded", nil) // long gone
		case op == nil:
			return notFound(t.typ, name, c.ResourceGroup)
		case now.Before(op.Due):
			resp = pollAnswer(req, http.StatusAccepted, "InProgress", nil)
		case op.Fail != nil:
			resp = pollAnswer(req, http.StatusOK, "Failed", op.Fail.body())
			resp.Header.Set("x-ms-error-code", op.Fail.Code)
		case t.kind == kindPut:
			v, err := c.render(r)
			if err != nil {
				return err
			}
			resp = pollAnswer(req, http.StatusOK, "Succeeded", mustJSON(v))
		default:
			resp = pollAnswer(req, http.StatusOK, "Succeeded", nil)
		}
		return nil
	})
	return resp, err
}

func pollAnswer(req *http.Request, status int, fakeStatus string, body []byte) *http.Response {
	resp := newResponse(req, status, body)
	resp.Header.Set("Fake-Poller-Status", fakeStatus)
	return resp
}

// lookupOp finds the latest operation of a kind on a resource. Only a
// deletion is still found on the tombstone: any other operation of a
// resource that is gone answers ResourceNotFound, as ARM does.
func (c *cloud) lookupOp(typ, name, kind string) (*resource, *operation) {
	k := key(typ, name)
	if r := c.Resources[k]; r != nil && r.Ops.of(kind) != nil {
		return r, r.Ops.of(kind)
	}
	if r := c.Tombstones[k]; r != nil && r.Ops.of(kind) != nil && kind == kindDelete {
		return r, r.Ops.of(kind)
	}
	return nil, nil
}

// render is a resource as GET returns it.
func (c *cloud) render(r *resource) (any, error) {
	switch r.Type {
	case typeVM:
		return c.vmModel(r, false)
	case typeNIC:
		return c.nicModel(r)
	case typePIP:
		return c.publicIPModel(r)
	case typeNSG:
		return c.nsgModel(r)
	default:
		return c.vnetModel(r)
	}
}

// scale turns an Azure-like duration into the emulator's.
func (e *Emulator) scale(d time.Duration) time.Duration {
	return time.Duration(float64(d) * e.opts.Latency)
}
