package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestOperatorEndpoints: with --debug-addr, Go's runtime metrics, expvar
// and pprof answer there, and the portal's own address serves none of them.
func TestOperatorEndpoints(t *testing.T) {
	var c Config
	args := []string{"--data", t.TempDir(), "--emulator-latency", "0", "--sync-interval", "1h", "--debug-addr", "127.0.0.1:0"}
	if err := parse("serve", args, io.Discard, c.bindServe); err != nil {
		t.Fatal(err)
	}
	rate := asMainStarts(t)
	portal, logs := startServe(t, c)
	if runtime.MemProfileRate != rate {
		t.Errorf("serving the operator endpoints, the heap is sampled at %d, want %d", runtime.MemProfileRate, rate)
	}
	found := regexp.MustCompile(`operator endpoints.* url=(http://\S+)/debug/`).FindStringSubmatch(logs.String())
	if found == nil {
		t.Fatalf("the operator endpoints' address is not logged:\n%s", logs.String())
	}
	debug := found[1]
	for path, want := range map[string]string{
		"/debug/metrics":                 "/sched/goroutines:goroutines ",
		"/debug/pprof/":                  "goroutine",
		"/debug/pprof/cmdline":           "instancehub.test", // this test's own command line
		"/debug/pprof/goroutine?debug=1": "goroutine profile: total",
		"/debug/pprof/heap?debug=1":      "heap profile: ",
	} {
		status, body := get(t, debug+path)
		if status != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("GET %s: %d, want 200 with %q", path, status, want)
		}
		if status, body := get(t, portal+path); status == http.StatusOK && strings.Contains(body, want) {
			t.Errorf("the portal's own address serves %s", path)
		}
	}
	_, body := get(t, debug+"/debug/vars")
	var vars map[string]json.RawMessage
	if err := json.Unmarshal([]byte(body), &vars); err != nil || vars["memstats"] == nil {
		t.Errorf("/debug/vars = %.200s, %v", body, err)
	}
}

func TestOperatorEndpointsAreOffByDefault(t *testing.T) {
	var c Config
	if err := parse("serve", []string{"--data", t.TempDir(), "--emulator-latency", "0"}, io.Discard, c.bindServe); err != nil {
		t.Fatal(err)
	}
	if c.DebugAddr != "" {
		t.Fatalf("--debug-addr defaults to %q", c.DebugAddr)
	}
	asMainStarts(t)
	_, logs := startServe(t, c)
	if strings.Contains(logs.String(), "operator endpoints") {
		t.Errorf("operator endpoints served by default:\n%s", logs.String())
	}
	// Nobody can ask for a heap profile, so none is sampled.
	if runtime.MemProfileRate != 0 {
		t.Errorf("without the operator endpoints the heap is sampled at %d", runtime.MemProfileRate)
	}
}

// asMainStarts sets the heap's sampling as main does (none, the rate kept
// for serveDebug) until the test ends, and returns the rate kept.
func asMainStarts(t *testing.T) int {
	kept, rate := heapSampling, runtime.MemProfileRate
	t.Cleanup(func() { heapSampling, runtime.MemProfileRate = kept, rate })
	heapSampling, runtime.MemProfileRate = rate, 0
	return rate
}

// startServe runs serve on a free port until the test ends and returns the
// portal's URL and its logs, once it serves.
func startServe(t *testing.T, c Config) (string, *syncBuffer) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	m := &Main{Config: c, Listener: ln, Logger: slog.New(slog.NewTextHandler(logs, nil))}
	if err := m.Run(context.Background()); err != nil {
		t.Fatalf("serve: %v\n%s", err, logs.String())
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Error(err)
		}
	})
	return m.URL, logs
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}
