package main

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"slices"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/internal/testportal"
	"github.com/instancehub/instancehub/localapps"
)

// TestOfflineJupyterFollowsAStopMadeElsewhere: an instance stopped without
// the gateway hearing of it (by the sync, another replica, an operation
// resumed after a restart) loses its Jupyter server within an interval.
func TestOfflineJupyterFollowsAStopMadeElsewhere(t *testing.T) {
	jupyter := os.Getenv("INSTANCEHUB_JUPYTER")
	if jupyter == "" {
		jupyter = "jupyter"
	}
	if _, err := exec.LookPath(jupyter); err != nil {
		t.Fatalf("%s: %v (make test installs Debian's jupyter-notebook)", jupyter, err)
	}
	p := testportal.Open(t, t.TempDir(), 0)
	for _, name := range []string{"keeps-box", "stops-box"} {
		if _, err := p.Service.CreateInstance(p.Ctx, testportal.Request(name)); err != nil {
			t.Fatal(err)
		}
	}
	servers := localapps.New(localapps.Config{Jupyter: jupyter, DataDir: t.TempDir()})
	t.Cleanup(func() { _ = servers.Close() })
	for _, name := range []string{"keeps-box", "stops-box"} {
		inst := p.WaitState(t, name, instancehub.StateRunning)
		if _, _, err := servers.Upstream(p.Ctx, inst, instancehub.Application{Slug: "jupyter", Label: "Jupyter"}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go followPowerState(ctx, p.Service.Instances, servers, 50*time.Millisecond, slog.New(slog.DiscardHandler))

	if _, err := p.Service.Act(p.Ctx, "stops-box", instancehub.OpStop); err != nil {
		t.Fatal(err)
	}
	p.WaitState(t, "stops-box", instancehub.StateStopped)
	deadline := time.Now().Add(20 * time.Second)
	for slices.Contains(servers.Running(), "stops-box") {
		if time.Now().After(deadline) {
			t.Fatalf("the stopped instance's Jupyter still runs: %v", servers.Running())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !servers.Serving("keeps-box") {
		t.Fatalf("the running instance's Jupyter was stopped too: %v", servers.Running())
	}
}

func TestDefaultPollIntervalFollowsTheEmulatorsTimes(t *testing.T) {
	for _, tc := range []struct {
		c    Config
		want time.Duration
	}{
		{Config{EmulatorLatency: 1}, time.Second},
		{Config{EmulatorLatency: 0.1}, 100 * time.Millisecond},
		{Config{EmulatorLatency: 0}, 2 * time.Millisecond},
		{Config{Azure: AzureConfig{SubscriptionID: "sub"}, EmulatorLatency: 0}, 5 * time.Second},
	} {
		if got := defaultPollInterval(tc.c); got != tc.want {
			t.Errorf("%+v: %s, want %s", tc.c.EmulatorLatency, got, tc.want)
		}
	}
}
