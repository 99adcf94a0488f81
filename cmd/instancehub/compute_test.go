package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/instancehub/instancehub/amlyaml"
)

// startPortal serves a portal on a loopback port until the test ends and
// returns its address and data directory.
func startPortal(t *testing.T, extra ...string) (string, string) {
	t.Helper()
	m, dir := startMain(t, extra...)
	return m.URL, dir
}

// startMain serves a portal on a loopback port until the test ends and
// returns it (its service, to set its clock) and its data directory.
func startMain(t *testing.T, extra ...string) (*Main, string) {
	t.Helper()
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var c Config
	args := append([]string{"--data", dir, "--admin-email", "owner@example.com", "--emulator-latency", "0.01", "--sync-interval", "1h"}, extra...)
	if err := parse("serve", args, io.Discard, c.bindServe); err != nil {
		t.Fatal(err)
	}
	m := &Main{Config: c, Listener: ln, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Error(err)
		}
	})
	return m, dir
}

// cli runs instancehub with args and returns its output and error.
func cli(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), args, strings.NewReader(""), &stdout, &stderr)
	return stdout.String(), stderr.String(), err
}

func isUsage(err error) bool {
	var u usageError
	return errors.As(err, &u)
}

// TestComputeCLI drives a running portal from the command line: a token
// from tokens create, then create from an az ml file with --wait, show in
// three forms (the YAML one reads back as the file did), stop, ops and
// delete, with the exit statuses a script relies on.
func TestComputeCLI(t *testing.T) {
	url, dir := startPortal(t)
	out, _, err := cli(t, "tokens", "create", "--data", dir, "--email", "owner@example.com", "--name", "cli test", "--expires", "7d")
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(out)
	if !strings.HasPrefix(token, "ihp_") || strings.Contains(token, "\n") {
		t.Fatalf("tokens create printed %q", out)
	}
	t.Setenv("INSTANCEHUB_URL", url)
	t.Setenv("INSTANCEHUB_TOKEN", token)

	spec := `$schema: https://azuremlschemas.azureedge.net/latest/computeInstance.schema.json
name: cli-box
type: computeinstance
size: standard_ds1_v2
location: eastus
description: Made from the command line
tags:
  team: vision
network_settings:
  vnet_name: vnet-eastus
  subnet: default
idle_time_before_shutdown_minutes: 30
schedules:
  compute_start_stop:
    - action: stop
      trigger:
        type: cron
        expression: 0 19 * * 1-5
        time_zone: UTC
`
	file := filepath.Join(t.TempDir(), "cli-box.yml")
	if err := os.WriteFile(file, []byte(spec), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, err = cli(t, "compute", "create", "--file", file, "--wait")
	if err != nil || !strings.Contains(out, "Create of cli-box succeeded") {
		t.Fatalf("create --wait: %q %v", out, err)
	}

	out, _, err = cli(t, "compute", "show", "cli-box")
	if err != nil || !strings.Contains(out, "Running") || !strings.Contains(out, "after 30 minutes idle") || !strings.Contains(out, "Standard_DS1_v2") || !strings.Contains(out, "Made from the command line") {
		t.Errorf("show: %q %v", out, err)
	}
	out, _, err = cli(t, "compute", "show", "cli-box", "--output", "json")
	if err != nil || !strings.Contains(out, `"computeType": "ComputeInstance"`) {
		t.Errorf("show --output json: %q %v", out, err)
	}
	shown, _, err := cli(t, "compute", "show", "cli-box", "--output", "yaml")
	if err != nil {
		t.Fatal(err)
	}
	original, err := amlyaml.Decode([]byte(spec))
	if err != nil {
		t.Fatal(err)
	}
	back, err := amlyaml.Decode([]byte(shown))
	if err != nil {
		t.Fatalf("the shown file does not read back: %v\n%s", err, shown)
	}
	original.Positions, back.Positions = nil, nil
	original.Request.VMSize = "Standard_DS1_v2" // the portal's spelling of the size
	if !reflect.DeepEqual(original, back) {
		t.Errorf("round trip of the file:\n%+v\n%+v\n%s", original, back, shown)
	}

	out, _, err = cli(t, "compute", "list")
	if err != nil || !strings.Contains(out, "NAME") || !strings.Contains(out, "cli-box") {
		t.Errorf("list: %q %v", out, err)
	}
	// Flags before and after the name both count.
	out, _, err = cli(t, "compute", "stop", "--output", "table", "cli-box", "--wait")
	if err != nil || !strings.Contains(out, "Stop of cli-box succeeded") {
		t.Errorf("stop --wait: %q %v", out, err)
	}
	out, _, err = cli(t, "compute", "ops", "cli-box")
	if err != nil || !strings.Contains(out, "Stop") || !strings.Contains(out, "Create") || strings.Count(out, "Succeeded") != 2 {
		t.Errorf("ops: %q %v", out, err)
	}
	// Refused: exit status 1, with the portal's reason.
	_, _, err = cli(t, "compute", "stop", "cli-box")
	if err == nil || isUsage(err) || !strings.Contains(err.Error(), "stopped") {
		t.Errorf("a second stop: %v", err)
	}
	out, _, err = cli(t, "compute", "delete", "cli-box", "--wait")
	if err != nil || !strings.Contains(out, "Delete of cli-box succeeded") {
		t.Errorf("delete --wait: %q %v", out, err)
	}
	if _, _, err = cli(t, "compute", "show", "cli-box"); err == nil || isUsage(err) {
		t.Errorf("show of a deleted instance: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.yml")
	_ = os.WriteFile(bad, []byte("name: bad-box\ntype: computeinstance\nsize: Standard_Nope\n"), 0o600)
	if _, _, err = cli(t, "compute", "create", "--file", bad); err == nil || isUsage(err) || !strings.Contains(err.Error(), "line 3, column 1") {
		t.Errorf("a refused file: %v", err)
	}
	// Bad usage: exit status 2.
	for _, args := range [][]string{
		{"compute", "frobnicate", "x"},
		{"compute", "frobnicate"},
		{"compute", "show"},
		{"compute", "show", "cli-box", "other-box"},
		{"compute", "show", "--output", "json", "cli-box", "other-box"},
		{"compute", "list", "--output", "xml"},
		{"compute", "create", "--file", bad, "--size", "x"},
		{"tokens", "create", "--data", dir, "--email", "owner@example.com"},
	} {
		if _, _, err := cli(t, args...); !isUsage(err) {
			t.Errorf("%v: %v, want bad usage", args, err)
		}
	}
	t.Setenv("INSTANCEHUB_TOKEN", "")
	if _, _, err := cli(t, "compute", "list"); !isUsage(err) {
		t.Errorf("no token: %v, want bad usage", err)
	}
	if _, _, err := cli(t, "compute", "list", "--token", "ihp_wrong"); err == nil || isUsage(err) || !strings.Contains(err.Error(), "not valid") {
		t.Errorf("a wrong token: %v", err)
	}
}

// TestComputeListFollowsLinksToItsOwnPortal: a next page's link is taken
// for its path alone and asked of --url, so the token never goes to the
// host or scheme the link names (a proxy's, over plain HTTP).
func TestComputeListFollowsLinksToItsOwnPortal(t *testing.T) {
	var asked []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked = append(asked, r.URL.RequestURI()+" "+r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Query().Get("page") == "2" {
			_, _ = w.Write([]byte(`{"value":[{"name":"second","location":"eastus","properties":{"properties":{"state":"Running"}}}],"count":2}`))
			return
		}
		_, _ = w.Write([]byte(`{"value":[{"name":"first","location":"eastus","properties":{"properties":{"state":"Running"}}}],"count":2,"nextLink":"http://elsewhere.invalid:9/api/v1/computes?page=2"}`))
	}))
	defer srv.Close()
	out, _, err := cli(t, "compute", "list", "--url", srv.URL, "--token", "ihp_secret")
	if err != nil || !strings.Contains(out, "first") || !strings.Contains(out, "second") {
		t.Fatalf("list: %q %v", out, err)
	}
	if len(asked) != 2 || asked[1] != "/api/v1/computes?page=2 Bearer ihp_secret" {
		t.Errorf("asked %q", asked)
	}
}
