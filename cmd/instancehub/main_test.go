package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/instancehub/instancehub/azure"
	"github.com/instancehub/instancehub/store"
)

func TestHelpDocumentsEveryFlagAndItsEnvironmentVariable(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"--help"}, nil, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"-addr", "INSTANCEHUB_ADDR", "127.0.0.1:8080",
		"-data", "INSTANCEHUB_DATA", "./data",
		"-emulator-latency", "INSTANCEHUB_EMULATOR_LATENCY",
		"INSTANCEHUB_ADMIN_PASSWORD", "users add",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("help lacks %q", want)
		}
	}
}

func TestEnvironmentSetsDefaults(t *testing.T) {
	t.Setenv("INSTANCEHUB_ADDR", "0.0.0.0:9999")
	t.Setenv("INSTANCEHUB_EMULATOR_LATENCY", "0.25")
	t.Setenv("INSTANCEHUB_SYNC_INTERVAL", "1m")
	var c Config
	if err := parse("serve", []string{"--data", "/srv/data"}, io.Discard, c.bindServe); err != nil {
		t.Fatal(err)
	}
	if c.Addr != "0.0.0.0:9999" || c.EmulatorLatency != 0.25 || c.SyncInterval != time.Minute || c.Data != "/srv/data" {
		t.Errorf("config = %+v", c)
	}
	t.Setenv("INSTANCEHUB_EMULATOR_LATENCY", "fast")
	if err := parse("serve", nil, io.Discard, c.bindServe); err == nil || !strings.Contains(err.Error(), "INSTANCEHUB_EMULATOR_LATENCY") {
		t.Errorf("a bad variable: err = %v", err)
	}
}

// syncBuffer is a log sink the server goroutine and the test share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestServeFirstStart(t *testing.T) {
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	var c Config
	args := []string{"--data", dir, "--admin-email", "owner@example.com", "--emulator-latency", "0", "--sync-interval", "1h"}
	if err := parse("serve", args, io.Discard, c.bindServe); err != nil {
		t.Fatal(err)
	}
	m := &Main{Config: c, Listener: ln, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	if err := m.Run(context.Background()); err != nil {
		t.Fatalf("serve: %v\n%s", err, logs.String())
	}
	client := &http.Client{Timeout: time.Second}
	resp, err := client.Get(m.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	var health map[string]string
	if json.NewDecoder(resp.Body).Decode(&health) != nil || resp.StatusCode != http.StatusOK || health["status"] != "ok" {
		t.Errorf("healthz = %d %v", resp.StatusCode, health)
	}
	resp.Body.Close()
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	log := logs.String()
	if !strings.Contains(log, "password is shown only now") || !strings.Contains(log, "owner@example.com") {
		t.Errorf("the generated password was not logged:\n%s", log)
	}
	for _, f := range []string{"instancehub.db", "emulator.db", "emulator.json"} { // the JSON: the marker older builds refuse
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("data directory: %v", err)
		}
	}
	// A second start creates no second account and logs no password.
	var logs2 syncBuffer
	ln2, _ := net.Listen("tcp", "127.0.0.1:0")
	m2 := &Main{Config: c, Listener: ln2, Logger: slog.New(slog.NewTextHandler(&logs2, nil))}
	if err := m2.Run(context.Background()); err != nil {
		t.Fatalf("second start: %v\n%s", err, logs2.String())
	}
	if err := m2.Close(); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logs2.String(), "password") || strings.Contains(logs2.String(), "created the first account") {
		t.Errorf("second start made an account:\n%s", logs2.String())
	}
}

func TestUsersAdd(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	args := []string{"users", "add", "--data", dir, "--email", "grace@example.com", "--name", "Grace Hopper"}
	if err := run(context.Background(), args, strings.NewReader("a long password\n"), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if out.String() != "Added Grace Hopper <grace@example.com>.\n" {
		t.Errorf("output = %q", out.String())
	}
	db, err := store.Open(context.Background(), filepath.Join(dir, "instancehub.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if u, err := db.FindUserByEmail(context.Background(), "grace@example.com"); err != nil || u.Name != "Grace Hopper" {
		t.Errorf("user = %+v, %v", u, err)
	}
	err = run(context.Background(), args, strings.NewReader("a long password\n"), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("a second account with the same email: %v", err)
	}
	err = run(context.Background(), []string{"users", "add", "--data", dir, "--email", "x@example.com"}, strings.NewReader("short\n"), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "at least 10 characters") {
		t.Errorf("short password: %v", err)
	}
}

func TestDoctorWithTheEmulator(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), []string{"doctor", "--data", t.TempDir(), "--azure-image", "microsoft-dsvm:ubuntu-2204:2204-gen2:25.01.15"}, nil, &out, io.Discard)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, want := range []string{
		"Using the offline Azure emulator",
		"ok    credential",
		"ok    region eastus            25 VM sizes",
		"ok    image in westeurope      microsoft-dsvm:ubuntu-2204:2204-gen2:25.01.15",
		"ok    network in eastus        the portal will make instancehub-eastus",
		"skip  permissions",
		"All checks passed.",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	err = run(context.Background(), []string{"doctor", "--data", t.TempDir(), "--azure-image", "microsoft-dsvm:ubuntu-2204:2204-gen2:1.0.0", "--azure-vnet", "corp-net"}, nil, &out, io.Discard)
	if err == nil || !strings.Contains(out.String(), "fail  image in eastus") || !strings.Contains(out.String(), "fail  network in eastus        the virtual network corp-net does not exist") {
		t.Errorf("a missing image version and network: %v\n%s", err, out.String())
	}
}

// TestPortalHosts: the portal answers on the name people open it at, as
// browsers send it, and nothing else; on the address it serves on when no
// --public-url names it, with localhost's names on a loopback address; on
// any name when it serves on every interface and nothing names it.
func TestPortalHosts(t *testing.T) {
	for _, tc := range []struct {
		flag, served string
		want         []string
	}{
		{"https://portal.example.com", "0.0.0.0:8080", []string{"portal.example.com:443", "portal.example.com"}},
		{"https://portal.example.com:443", "127.0.0.1:8080", []string{"portal.example.com:443", "portal.example.com"}},
		{"http://Portal.example.com:8000", "127.0.0.1:8080", []string{"portal.example.com:8000"}},
		{"http://[2001:db8::1]", "[::]:80", []string{"[2001:db8::1]:80", "[2001:db8::1]"}},
		{"", "127.0.0.1:8080", []string{"127.0.0.1:8080", "localhost:8080", "[::1]:8080", "*.localhost:8080"}},
		{"", "[::1]:8080", []string{"[::1]:8080", "localhost:8080", "127.0.0.1:8080", "*.localhost:8080"}},
		{"", "10.0.0.4:8080", []string{"10.0.0.4:8080"}},
		{"", "0.0.0.0:8080", nil},
		{"", "[::]:8080", nil},
	} {
		c := Config{PublicURL: tc.flag}
		public, err := c.publicURL(&url.URL{Scheme: "http", Host: tc.served})
		if err != nil {
			t.Fatal(err)
		}
		if got := c.portalHosts(public); !slices.Equal(got, tc.want) {
			t.Errorf("--public-url %q serving on %s: %q, want %q", tc.flag, tc.served, got, tc.want)
		}
	}
}

// TestPublicURL: --public-url is the portal's origin, nothing else.
func TestPublicURL(t *testing.T) {
	served := &url.URL{Scheme: "http", Host: "127.0.0.1:8080"}
	for _, tc := range []struct{ flag, want string }{
		{"", "http://127.0.0.1:8080"},
		{"https://portal.example.com", "https://portal.example.com"},
		{"https://portal.example.com:8443/", "https://portal.example.com:8443"},
		{"portal.example.com", ""},
		{"ftp://portal.example.com", ""},
		{"https://portal.example.com/instancehub", ""},
		{"https://portal.example.com/?a=1", ""},
		{"https://user:pw@portal.example.com", ""},
	} {
		c := Config{PublicURL: tc.flag}
		u, err := c.publicURL(served)
		if tc.want == "" {
			if err == nil || !strings.Contains(err.Error(), "--public-url") {
				t.Errorf("%q: %v, %v; want a refusal", tc.flag, u, err)
			}
		} else if err != nil || u.String() != tc.want {
			t.Errorf("%q: %v, %v; want %s", tc.flag, u, err, tc.want)
		}
	}
}

// TestDockerPoolFlag: --azure-docker-pool reaches the cloud, and a range
// Docker cannot use is refused naming the flag before anything runs.
func TestDockerPoolFlag(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), []string{"doctor", "--data", t.TempDir(), "--azure-docker-pool", "172.17.0.1/16"}, nil, &out, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--azure-docker-pool") || !strings.Contains(err.Error(), "172.17.0.1/16") {
		t.Errorf("a pool that is not a network: %v\n%s", err, out.String())
	}
	c := &Config{}
	c.Azure.Image, c.Azure.DockerPool, c.Azure.RStudioImage = azure.DataScienceVM.URN(), "100.64.0.0/16", azure.DefaultRStudioImage
	cfg, err := c.azureConfig("sub", "rg", []string{"eastus"})
	if err != nil || cfg.DockerAddressPool != "100.64.0.0/16" {
		t.Errorf("%+v %v", cfg, err)
	}
}

// TestRStudioImageFlags: --azure-rstudio-image and --azure-registry-identity
// reach the cloud, and what docker or Azure could not take is refused
// naming its flag.
func TestRStudioImageFlags(t *testing.T) {
	for _, bad := range [][]string{
		{"--azure-rstudio-image", "ghcr.io/azure/rocker rstudio"},
		{"--azure-rstudio-image", "ghcr.io/azure/rstudio@sha256:short"},
		{"--azure-registry-identity", "acr-pull"},
	} {
		var out bytes.Buffer
		err := run(context.Background(), append([]string{"doctor", "--data", t.TempDir()}, bad...), nil, &out, io.Discard)
		if err == nil || !strings.Contains(err.Error(), bad[0]+":") {
			t.Errorf("%s %q: %v", bad[0], bad[1], err)
		}
	}
	const identity = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/shared/providers/Microsoft.ManagedIdentity/userAssignedIdentities/acr-pull"
	c := &Config{}
	c.Azure.Image, c.Azure.DockerPool = azure.DataScienceVM.URN(), azure.DefaultDockerAddressPool
	c.Azure.RStudioImage, c.Azure.RegistryIdentity = "contoso.azurecr.io/rstudio:4.4", identity
	cfg, err := c.azureConfig("sub", "rg", []string{"eastus"})
	if err != nil || cfg.RStudioImage != "contoso.azurecr.io/rstudio:4.4" || cfg.RegistryIdentity != identity {
		t.Errorf("%+v %v", cfg, err)
	}
}
