package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestEmulatorProcess: `instancehub emulator` serves the emulated cloud
// over HTTPS from its own data directory, and a portal started with
// --emulator-url and --emulator-ca keeps no cloud of its own but creates,
// stops and deletes instances in that one.
func TestEmulatorProcess(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	emuDir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var logs syncBuffer
	go func() {
		done <- emulatorCommand(ctx, []string{"--addr", addr, "--data", emuDir, "--emulator-latency", "0.01"}, &logs)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	for i := 0; i < 300 && !strings.Contains(logs.String(), "serving the emulator"); i++ {
		time.Sleep(10 * time.Millisecond)
	}
	cert := filepath.Join(emuDir, "emulator-cert.pem")
	if _, err := os.Stat(cert); err != nil {
		t.Fatalf("no certificate: %v\n%s", err, logs.String())
	}
	url, dir := startPortal(t, "--emulator-url", "https://"+addr, "--emulator-ca", cert)
	if _, err := os.Stat(filepath.Join(dir, "emulator.db")); !os.IsNotExist(err) {
		t.Errorf("the portal keeps a cloud of its own: %v", err)
	}
	out, _, err := cli(t, "tokens", "create", "--data", dir, "--email", "owner@example.com", "--name", "emulator test")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("INSTANCEHUB_URL", url)
	t.Setenv("INSTANCEHUB_TOKEN", strings.TrimSpace(out))
	for _, args := range [][]string{
		{"compute", "create", "shared-box", "--size", "Standard_DS1_v2", "--wait"},
		{"compute", "stop", "shared-box", "--wait"},
		{"compute", "delete", "shared-box", "--wait"},
	} {
		if out, _, err := cli(t, args...); err != nil || !strings.Contains(out, "succeeded") {
			t.Fatalf("%v: %q %v", args, out, err)
		}
	}
	// A second emulator on the same data directory is refused.
	var second bytes.Buffer
	if err := emulatorCommand(context.Background(), []string{"--addr", "127.0.0.1:0", "--data", emuDir}, &second); err == nil {
		t.Error("a second emulator took the same data directory")
	}
}

// TestEmulatorOperatorEndpoints: `instancehub emulator --debug-addr` serves
// Go's runtime metrics and pprof of the emulator's own process, to profile
// it beside a portal, and no portal figures there.
func TestEmulatorOperatorEndpoints(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var logs syncBuffer
	go func() {
		done <- emulatorCommand(ctx, []string{"--addr", "127.0.0.1:0", "--data", dir, "--debug-addr", "127.0.0.1:0"}, &logs)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	served := regexp.MustCompile(`operator endpoints.* url=(http://\S+)/debug/`)
	var found []string
	for i := 0; i < 500 && found == nil; i++ {
		time.Sleep(10 * time.Millisecond)
		found = served.FindStringSubmatch(logs.String())
	}
	if found == nil {
		t.Fatalf("the emulator's operator endpoints are not logged:\n%s", logs.String())
	}
	for path, want := range map[string]string{
		"/debug/metrics":       "/sched/goroutines:goroutines ",
		"/debug/pprof/cmdline": "instancehub.test",
	} {
		if status, body := get(t, found[1]+path); status != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("GET %s: %d, want 200 with %q", path, status, want)
		}
	}
	if status, _ := get(t, found[1]+"/metrics"); status != http.StatusNotFound {
		t.Errorf("GET /metrics: %d, want 404: the emulator has no portal figures", status)
	}
}
