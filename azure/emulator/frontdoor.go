package emulator

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	computefake "github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v8/fake"
	networkfake "github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v9/fake"
)

// Per-request latency at Latency 1, as ARM takes to answer.
const (
	readLatency  = 30 * time.Millisecond
	writeLatency = 80 * time.Millisecond
)

// nonRetriable marks an error azcore's retry policy must not retry (it
// looks for this method, as on the fakes' own errors): a closed emulator or a
// request no client would make will not get better.
type nonRetriable struct{ error }

func (nonRetriable) NonRetriable() {}

var errClosed = nonRetriable{errors.New("emulator: closed")}

// frontDoor is the transport of every client: it counts and delays requests,
// answers polls of long-running operations from the model, and hands the rest
// to the SDK's fake servers by resource provider.
type frontDoor struct {
	e       *Emulator
	compute policy.Transporter
	network policy.Transporter
}

func newFrontDoor(e *Emulator) *frontDoor {
	return &frontDoor{
		e:       e,
		compute: computefake.NewServerFactoryTransport(computeServers(e)),
		network: networkfake.NewServerFactoryTransport(networkServers(e)),
	}
}

// Do implements policy.Transporter.
func (d *frontDoor) Do(req *http.Request) (*http.Response, error) {
	if d.e.closed.Load() {
		return nil, errClosed
	}
	api, _ := req.Context().Value(runtime.CtxAPINameKey{}).(string)
	if api == "" {
		return nil, nonRetriable{errors.New("emulator: request without an API name (runtime.CtxAPINameKey); use an ARM SDK client")}
	}
	d.e.count(api)
	if err := d.wait(req); err != nil {
		return nil, err
	}
	switch api {
	case BlobDownloadAPI:
		return d.e.downloadBlob(req)
	case RegistryManifestAPI:
		return d.e.registry(req)
	}
	// The addresses the emulator hands out name the host it was reached at.
	req = req.WithContext(context.WithValue(req.Context(), baseURLKey{}, req.URL.Scheme+"://"+req.URL.Host))
	resp, err := d.serve(req, api)
	if ae := (*armError)(nil); errors.As(err, &ae) {
		return ae.response(req), nil
	}
	return resp, err
}

// wait sleeps the time ARM would take to answer.
func (d *frontDoor) wait(req *http.Request) error {
	latency := writeLatency
	if req.Method == http.MethodGet || req.Method == http.MethodHead {
		latency = readLatency
	}
	return d.e.pause(req.Context(), latency)
}

// pause sleeps latency, scaled, or until ctx ends.
func (e *Emulator) pause(ctx context.Context, latency time.Duration) error {
	t := time.NewTimer(e.scale(latency))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (d *frontDoor) serve(req *http.Request, api string) (*http.Response, error) {
	path := publicPath(req.URL.Path)
	if err := d.e.checkScope(path); err != nil {
		return nil, err
	}
	if strings.HasSuffix(path, pollSuffix) {
		return d.e.answerPoll(req, api)
	}
	if err := d.e.takeFault(api, resourceName(path), false); err != nil {
		return nil, err
	}
	if listsStatuses(req, api) {
		return d.e.statusPage(req)
	}
	if listsGroupVMs(req, api) {
		return d.e.groupPage(req)
	}
	next := d.route(path)
	if next == nil {
		return nil, armErr(http.StatusBadRequest, "NoRegisteredProviderFound", "The emulator serves no resource provider for %s.", path)
	}
	resp, err := detached(req, func(r *http.Request) (*http.Response, error) { return next.Do(d.private(r, api)) })
	if resp != nil {
		resp.Request = req
	}
	return resp, err
}

// detached runs a fake server on a copy of req whose context is never
// cancelled, and gives up waiting when req's is. The armnetwork fakes close
// their result channel when the caller's context ends while their handler
// still runs, which then panics on sending ("send on closed channel"):
// a caller that gives up (a portal shutting down) must not crash the process.
func detached(req *http.Request, do func(*http.Request) (*http.Response, error)) (*http.Response, error) {
	type result struct {
		resp *http.Response
		err  error
	}
	done := make(chan result, 1)
	r := req.WithContext(context.WithoutCancel(req.Context()))
	go func() {
		resp, err := do(r)
		done <- result{resp, err}
	}()
	select {
	case res := <-done:
		return res.resp, res.err
	case <-req.Context().Done():
		return nil, req.Context().Err()
	}
}

func (d *frontDoor) route(path string) policy.Transporter {
	p := strings.ToLower(path)
	switch {
	case strings.Contains(p, "/providers/microsoft.compute/"):
		return d.compute
	case strings.Contains(p, "/providers/microsoft.network/"):
		return d.network
	}
	return nil
}

// privatePrefix starts the path of a request given a path of its own.
const privatePrefix = "/emulator-call-"

// private gives a Begin, or the first page of a list, a path of its own. The
// fakes track LROs and pagers by path alone, so two callers listing VMs at
// once would share (and split) one pager's pages, and a pager left unfinished
// would serve its stale pages to the next caller. The fakes' route patterns
// are unanchored, so a prefix leaves the parameters they parse intact (a
// suffix would not: the network fakes' name pattern takes in "/"). Later
// pages follow nextLinks made from the prefixed path.
func (d *frontDoor) private(req *http.Request, api string) *http.Request {
	method := api[strings.Index(api, ".")+1:]
	if strings.HasPrefix(req.URL.Path, privatePrefix) ||
		!strings.HasPrefix(method, "Begin") && !strings.HasSuffix(method, "Pager") {
		return req
	}
	prefix := fmt.Sprintf("%s%d", privatePrefix, d.e.seq.Add(1))
	r := req.Clone(req.Context())
	r.URL.RawPath = prefix + req.URL.EscapedPath()
	r.URL.Path = prefix + req.URL.Path
	return r
}

// publicPath is a request's path without the prefix private gave it.
func publicPath(path string) string {
	if rest, found := strings.CutPrefix(path, privatePrefix); found {
		if i := strings.Index(rest, "/"); i >= 0 {
			return rest[i:]
		}
	}
	return path
}

// checkScope refuses paths outside the emulated subscription and resource group.
func (e *Emulator) checkScope(path string) error {
	p := strings.Split(path, "/")
	if len(p) < 3 || !strings.EqualFold(p[1], "subscriptions") {
		return armErr(http.StatusBadRequest, "InvalidRequestUri", "The request URI '%s' is not valid.", path)
	}
	if !strings.EqualFold(p[2], e.opts.SubscriptionID) {
		return armErr(http.StatusNotFound, "SubscriptionNotFound", "The subscription '%s' could not be found.", p[2])
	}
	if len(p) >= 5 && strings.EqualFold(p[3], "resourceGroups") && !strings.EqualFold(p[4], e.opts.ResourceGroup) {
		return armErr(http.StatusNotFound, "ResourceGroupNotFound", "Resource group '%s' could not be found.", p[4])
	}
	return nil
}

// resourceName is the name of the last resource a path names: "vm1" in
// .../virtualMachines/vm1/start, "eastus" in .../locations/eastus/usages.
func resourceName(path string) string {
	i := strings.Index(strings.ToLower(path), "/providers/")
	if i < 0 {
		return ""
	}
	segs := strings.Split(strings.Trim(path[i+len("/providers/"):], "/"), "/")
	name := ""
	for j := 2; j < len(segs); j += 2 { // segs[0] is the namespace, then type/name pairs
		name = segs[j]
	}
	return name
}
