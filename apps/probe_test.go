package apps

import (
	"context"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
)

func TestProbeReadsJupytersKernelsAndTerminals(t *testing.T) {
	f := newFixture(t, time.Hour)
	inst, err := f.p.Service.Instance(f.p.Ctx, "adas-box")
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.g.Probe(context.Background(), inst)
	if err != nil {
		t.Fatal(err)
	}
	want := instancehub.Activity{At: time.Date(2026, 11, 30, 9, 7, 0, 0, time.UTC), Kernels: 2, BusyKernels: 1, Connections: 1, Terminals: 1}
	if !got.At.Equal(want.At) || got.Kernels != want.Kernels || got.BusyKernels != want.BusyKernels ||
		got.Connections != want.Connections || got.Terminals != want.Terminals || !got.InUse() {
		t.Fatalf("probe = %+v, want %+v", got, want)
	}

	// Where no server runs, nothing is started to ask it.
	f.g.cfg.Running = func(string) bool { return false }
	hits := f.up.hitsOf("adas-box")
	if _, err := f.g.Probe(context.Background(), inst); instancehub.ErrorCode(err) != instancehub.EUNAVAILABLE {
		t.Fatalf("not running: %v, want EUNAVAILABLE", err)
	}
	if f.up.hitsOf("adas-box") != hits {
		t.Fatal("the probe reached a server said not to run")
	}
	// A server with another secret refuses; the probe says so.
	f.g.cfg.Running = nil
	inst.Name = "nobodys-box"
	if _, err := f.g.Probe(context.Background(), inst); instancehub.ErrorCode(err) != instancehub.EUNAVAILABLE {
		t.Fatalf("no upstream: %v, want EUNAVAILABLE", err)
	}
}
