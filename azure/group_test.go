package azure_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// group is a loopback ARM that keeps the resources of one resource group as
// ARM does: a PUT stores its body (with the ID, name and a provisioning
// state ARM adds), a GET returns it, a DELETE removes it. Long-running
// writes answer 201 with an Azure-AsyncOperation URL that reports
// Succeeded; a throttle rule answers first when it matches. What it does
// not know is 404, as ARM's ResourceNotFound.
type group struct {
	*httptest.Server
	t *testing.T

	mu        sync.Mutex
	resources map[string]json.RawMessage // by lower-case path
	// throttle, when set, may answer a request in place of the group: it
	// returns false to let the group answer.
	throttle func(w http.ResponseWriter, r *http.Request) bool
	// log records each request as "METHOD path" and the clock's time then.
	log   []string
	times []time.Time
	clock *testClock
	// async makes writes of paths containing it long-running.
	async []string
}

func newGroup(t *testing.T, clock *testClock) *group {
	g := &group{t: t, resources: map[string]json.RawMessage{}, clock: clock}
	g.Server = httptest.NewTLSServer(http.HandlerFunc(g.serve))
	t.Cleanup(g.Close)
	return g
}

func (g *group) serve(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.log = append(g.log, r.Method+" "+r.URL.Path)
	if g.clock != nil {
		g.times = append(g.times, g.clock.Now())
	}
	w.Header().Set("Content-Type", "application/json")
	if g.throttle != nil && g.throttle(w, r) {
		return
	}
	key := strings.ToLower(r.URL.Path)
	switch {
	case strings.Contains(key, "/operations/"):
		fmt.Fprint(w, `{"status":"Succeeded"}`)
	case r.Method == http.MethodGet && strings.Contains(key, "/artifacttypes/vmimage/") && strings.Contains(key, "/versions/"):
		// The marketplace's image version, as a VM's create reads it.
		fmt.Fprintf(w, `{"name":%q,"location":"eastus","properties":{"hyperVGeneration":"V2","architecture":"x64"}}`, key[strings.LastIndex(key, "/")+1:])
	case r.Method == http.MethodPut:
		body, _ := io.ReadAll(r.Body)
		var res map[string]any
		if err := json.Unmarshal(body, &res); err != nil {
			g.t.Errorf("PUT %s: %v", r.URL.Path, err)
		}
		res["id"] = r.URL.Path
		res["name"] = r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
		props, _ := res["properties"].(map[string]any)
		if props == nil {
			props = map[string]any{}
			res["properties"] = props
		}
		props["provisioningState"] = "Succeeded"
		if strings.Contains(key, "/networkinterfaces/") {
			assignAddresses(props)
		}
		stored, _ := json.Marshal(res)
		g.resources[key] = stored
		for _, a := range g.async {
			if strings.Contains(key, strings.ToLower(a)) {
				// Until its operation says Succeeded, the resource is Creating.
				props["provisioningState"] = "Creating"
				stored, _ = json.Marshal(res)
				w.Header().Set("Azure-AsyncOperation", "https://"+r.Host+"/subscriptions/sub-1/providers/Microsoft.Compute/locations/eastus/operations/op-"+fmt.Sprint(len(g.log)))
				w.WriteHeader(http.StatusCreated)
				break
			}
		}
		w.Write(stored)
	case r.Method == http.MethodGet && g.resources[key] != nil:
		w.Write(g.resources[key])
	case r.Method == http.MethodDelete && g.resources[key] != nil:
		delete(g.resources, key)
		w.WriteHeader(http.StatusOK)
	default:
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, `{"error":{"code":"ResourceNotFound","message":"%s %s was not found."}}`, r.Method, r.URL.Path)
	}
}

// assignAddresses gives a network interface's IP configurations the
// private address Azure allocates to a dynamic one when it is made.
func assignAddresses(nic map[string]any) {
	configs, _ := nic["ipConfigurations"].([]any)
	for i, c := range configs {
		config, _ := c.(map[string]any)
		props, _ := config["properties"].(map[string]any)
		if props != nil && props["privateIPAddress"] == nil {
			props["privateIPAddress"] = fmt.Sprintf("10.0.0.%d", 4+i)
		}
	}
}

// left lists what the group holds, by the last part of each path.
func (g *group) left() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var names []string
	for key := range g.resources {
		names = append(names, key[strings.LastIndex(key, "/")+1:])
	}
	sort.Strings(names)
	return names
}

// requests lists the requests whose "METHOD path" contains s (ends with
// it, when s ends with $), with the clock's time of each.
func (g *group) requests(s string) []time.Time {
	g.mu.Lock()
	defer g.mu.Unlock()
	var at []time.Time
	s, end := strings.CutSuffix(strings.ToLower(s), "$")
	for i, l := range g.log {
		l = strings.ToLower(l)
		if end && strings.HasSuffix(l, s) || !end && strings.Contains(l, s) {
			at = append(at, g.times[i])
		}
	}
	return at
}

// testClock is the cloud's clock in tests: sleeping moves it at once, so a
// wait of twenty minutes takes none.
type testClock struct {
	mu    sync.Mutex
	now   time.Time
	slept []time.Duration
}

func newTestClock() *testClock {
	return &testClock{now: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.slept = append(c.slept, d)
	c.mu.Unlock()
	return nil
}

// sleeps is what the cloud slept, in order.
func (c *testClock) sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.slept...)
}
