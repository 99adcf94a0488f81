package apps

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/instancehub/instancehub"
)

// jupyterApp is the application whose server tells of kernels and
// terminals; on every image the Terminal is the same server.
var jupyterApp = instancehub.Application{Slug: "jupyter", Label: "Jupyter"}

// maxStatusBytes bounds what the gateway reads of an answer of Jupyter's
// API: an instance's own server is not to be trusted with the portal's
// memory.
const maxStatusBytes = 1 << 20

// Probe asks the Jupyter of the running instance inst about its kernels and
// terminals, as instancehub.ApplicationProbe. Activity.At is the newest
// activity of a kernel or terminal, not Jupyter's own last_activity, which
// every poll of an open Jupyter page refreshes. EUNAVAILABLE when
// Config.Running says no server runs for inst (nothing is started to ask
// it), or when its Jupyter cannot be reached.
func (g *Gateway) Probe(ctx context.Context, inst *instancehub.Instance) (instancehub.Activity, error) {
	var a instancehub.Activity
	if g.cfg.Running != nil && !g.cfg.Running(inst.Name) {
		return a, instancehub.Errorf(instancehub.EUNAVAILABLE, "No application of %s is running.", inst.Name)
	}
	base, secret, err := g.cfg.Upstreams.Upstream(ctx, inst, jupyterApp)
	if err != nil {
		return a, err
	}
	var kernels []struct {
		LastActivity   time.Time `json:"last_activity"`
		ExecutionState string    `json:"execution_state"`
		Connections    int       `json:"connections"`
	}
	var terminals []struct {
		LastActivity time.Time `json:"last_activity"`
	}
	get := func(path string, v any) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base.JoinPath(path).String(), nil)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "token "+secret)
		res, err := g.probes.Do(req)
		if err != nil {
			return instancehub.Errorf(instancehub.EUNAVAILABLE, "Jupyter on %s does not answer: %v", inst.Name, err)
		}
		defer res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("jupyter on %s: GET %s: %s", inst.Name, path, res.Status)
		}
		return json.NewDecoder(io.LimitReader(res.Body, maxStatusBytes)).Decode(v)
	}
	if err := get("api/kernels", &kernels); err != nil {
		return a, err
	}
	if err := get("api/terminals", &terminals); err != nil {
		return a, err
	}
	for _, k := range kernels {
		a.Kernels++
		a.Connections += k.Connections
		if k.ExecutionState == "busy" {
			a.BusyKernels++
		}
		if k.LastActivity.After(a.At) {
			a.At = k.LastActivity
		}
	}
	for _, t := range terminals {
		a.Terminals++
		if t.LastActivity.After(a.At) {
			a.At = t.LastActivity
		}
	}
	return a, nil
}
