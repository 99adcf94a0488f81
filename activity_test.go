package instancehub_test

import (
	"context"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/internal/testportal"
)

// probe answers as a running instance's Jupyter would.
type probe struct {
	activity instancehub.Activity
	err      error
	calls    int
}

func (p *probe) Probe(context.Context, *instancehub.Instance) (instancehub.Activity, error) {
	p.calls++
	return p.activity, p.err
}

func TestActivityIsWrittenOnceAMinuteAndShownWithJupyters(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0)
	if _, err := p.Service.CreateInstance(p.Ctx, testportal.Request("busy-box")); err != nil {
		t.Fatal(err)
	}
	p.WaitState(t, "busy-box", instancehub.StateRunning)
	at := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	for i, seen := range []time.Duration{0, 10 * time.Second, 59 * time.Second, 61 * time.Second} {
		if err := p.Service.RecordActivity(p.Ctx, "busy-box", at.Add(seen)); err != nil {
			t.Fatal(i, err)
		}
	}
	d, err := p.Service.InstanceDetail(p.Ctx, "busy-box")
	if err != nil {
		t.Fatal(err)
	}
	// Written at 0 s and at 61 s; the two between were within the minute.
	if want := at.Add(61 * time.Second); !d.LastActivity.Equal(want) || !d.Activity.At.Equal(want) {
		t.Fatalf("last activity %v (detail %v), want %v", d.LastActivity, d.Activity.At, want)
	}

	// A running instance's Jupyter tells of its kernels, and of a later
	// activity than the gateway saw (a cell still printing).
	jupyter := &probe{activity: instancehub.Activity{At: at.Add(5 * time.Minute), Kernels: 2, BusyKernels: 1, Connections: 1}}
	p.Service.Probe = jupyter
	d, err = p.Service.InstanceDetail(p.Ctx, "busy-box")
	if err != nil {
		t.Fatal(err)
	}
	if d.Activity != jupyter.activity || !d.Activity.InUse() {
		t.Fatalf("activity %+v, want Jupyter's %+v, in use", d.Activity, jupyter.activity)
	}
	// An older answer of Jupyter never hides the gateway's later time, and
	// a Jupyter that cannot be reached leaves the stored time.
	jupyter.activity = instancehub.Activity{At: at}
	if d, _ = p.Service.InstanceDetail(p.Ctx, "busy-box"); !d.Activity.At.Equal(at.Add(61 * time.Second)) {
		t.Fatalf("activity %v, want the gateway's later time", d.Activity.At)
	}
	jupyter.err = instancehub.Errorf(instancehub.EUNAVAILABLE, "no server")
	if d, _ = p.Service.InstanceDetail(p.Ctx, "busy-box"); !d.Activity.At.Equal(at.Add(61*time.Second)) || d.Activity.InUse() {
		t.Fatalf("activity %+v, want the stored time only", d.Activity)
	}
	// A stopped instance is not asked.
	calls := jupyter.calls
	if _, err := p.Service.Act(p.Ctx, "busy-box", instancehub.OpStop); err != nil {
		t.Fatal(err)
	}
	p.WaitState(t, "busy-box", instancehub.StateStopped)
	if _, err := p.Service.InstanceDetail(p.Ctx, "busy-box"); err != nil || jupyter.calls != calls {
		t.Fatalf("probed a stopped instance: %v, %d calls", err, jupyter.calls-calls)
	}
}

func TestLossSaysWhatAStopEnds(t *testing.T) {
	for _, tc := range []struct {
		a    instancehub.Activity
		want string
	}{
		{instancehub.Activity{}, ""},
		{instancehub.Activity{Kernels: 2, BusyKernels: 1}, ""},
		{instancehub.Activity{Kernels: 1, Connections: 1}, "1 notebook connected: unsaved changes will be lost."},
		{instancehub.Activity{Kernels: 2, Connections: 3, Terminals: 1}, "3 notebooks connected and 1 terminal open: unsaved changes will be lost."},
		{instancehub.Activity{Terminals: 2}, "2 terminals open: unsaved changes will be lost."},
	} {
		if got := tc.a.Loss(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.a, got, tc.want)
		}
	}
}
