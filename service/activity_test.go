package service_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/internal/testportal"
)

// probe answers as a running instance's Jupyter would; while gate is set,
// it answers only once gate is closed (or its context ends).
type probe struct {
	mu       sync.Mutex
	activity instancehub.Activity
	err      error
	calls    int
	answered int
	gate     chan struct{}
}

func (p *probe) Probe(ctx context.Context, _ *instancehub.Instance) (instancehub.Activity, error) {
	p.mu.Lock()
	p.calls++
	gate := p.gate
	p.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.answered++
	return p.activity, p.err
}

// set changes what the probe answers.
func (p *probe) set(a instancehub.Activity, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.activity, p.err = a, err
}

func (p *probe) counts() (calls, answered int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls, p.answered
}

// shownActivity waits until the details of name show an activity that ok
// accepts (the details ask Jupyter in the background), and returns it.
func shownActivity(t *testing.T, p *testportal.Portal, name string, ok func(instancehub.Activity) bool) instancehub.Activity {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		d, err := p.Service.InstanceDetail(p.Ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if ok(d.Activity) {
			return d.Activity
		}
		if time.Now().After(deadline) {
			t.Fatalf("the details of %s show %+v", name, d.Activity)
		}
	}
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
	now := at.Add(time.Hour)
	p.Service.Now = func() time.Time { return now }
	jupyter := &probe{activity: instancehub.Activity{At: at.Add(5 * time.Minute), Kernels: 2, BusyKernels: 1, Connections: 1}}
	p.Service.Probe = jupyter
	if a := shownActivity(t, p, "busy-box", instancehub.Activity.InUse); a != jupyter.activity {
		t.Fatalf("activity %+v, want Jupyter's %+v, in use", a, jupyter.activity)
	}
	// An older answer of Jupyter never hides the gateway's later time, and
	// a Jupyter that cannot be reached leaves the stored time. Each is
	// shown once what Jupyter said last is older than activityFresh.
	jupyter.set(instancehub.Activity{At: at, Kernels: 1}, nil)
	now = now.Add(11 * time.Second)
	shownActivity(t, p, "busy-box", func(a instancehub.Activity) bool {
		return a == instancehub.Activity{At: at.Add(61 * time.Second), Kernels: 1}
	})
	jupyter.set(instancehub.Activity{Kernels: 3, BusyKernels: 3}, instancehub.Errorf(instancehub.EUNAVAILABLE, "no server"))
	now = now.Add(11 * time.Second)
	shownActivity(t, p, "busy-box", func(a instancehub.Activity) bool {
		return a == instancehub.Activity{At: at.Add(61 * time.Second)}
	})
	// A stopped instance is not asked.
	calls, _ := jupyter.counts()
	if _, err := p.Service.Act(p.Ctx, "busy-box", instancehub.OpStop); err != nil {
		t.Fatal(err)
	}
	p.WaitState(t, "busy-box", instancehub.StateStopped)
	if _, err := p.Service.InstanceDetail(p.Ctx, "busy-box"); err != nil {
		t.Fatal(err)
	}
	if now, _ := jupyter.counts(); now != calls {
		t.Fatalf("probed a stopped instance: %d calls", now-calls)
	}
}

// TestDetailsNeverWaitForJupyter: the details of a running instance are
// answered while its Jupyter has not answered; what Jupyter says shows
// from then on, for activityFresh on the service's clock, and is asked
// again in the background after it; a change of the instance (a Stop and
// a Start) forgets what was said before it.
func TestDetailsNeverWaitForJupyter(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0)
	if _, err := p.Service.CreateInstance(p.Ctx, testportal.Request("slow-box")); err != nil {
		t.Fatal(err)
	}
	p.WaitState(t, "slow-box", instancehub.StateRunning)
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	p.Service.Now = func() time.Time { return now }
	busy := instancehub.Activity{At: now, Kernels: 1, BusyKernels: 1}
	jupyter := &probe{activity: busy, gate: make(chan struct{})}
	p.Service.Probe = jupyter

	d, err := p.Service.InstanceDetail(p.Ctx, "slow-box")
	if err != nil {
		t.Fatal(err)
	}
	if _, answered := jupyter.counts(); answered != 0 || d.Activity.InUse() {
		t.Fatalf("the details waited for Jupyter (%d answers), activity %+v", answered, d.Activity)
	}
	close(jupyter.gate)
	shownActivity(t, p, "slow-box", func(a instancehub.Activity) bool { return a == busy })
	calls, _ := jupyter.counts()

	// Fresh: Jupyter is not asked again, and its last answer shows.
	jupyter.set(instancehub.Activity{At: now, Kernels: 2}, nil)
	now = now.Add(9 * time.Second)
	for range 3 {
		if d, err = p.Service.InstanceDetail(p.Ctx, "slow-box"); err != nil || d.Activity != busy {
			t.Fatalf("%v, activity %+v, want the kept %+v", err, d.Activity, busy)
		}
	}
	if again, _ := jupyter.counts(); again != calls {
		t.Fatalf("Jupyter asked %d more times within activityFresh", again-calls)
	}
	// Older: asked again, once, in the background.
	now = now.Add(2 * time.Second)
	shownActivity(t, p, "slow-box", func(a instancehub.Activity) bool { return a.Kernels == 2 })
	if again, _ := jupyter.counts(); again != calls+1 {
		t.Fatalf("Jupyter asked %d more times after activityFresh, want 1", again-calls)
	}

	// A Stop and a Start: what was said before is not shown.
	for _, step := range []struct {
		op    instancehub.OperationKind
		state instancehub.State
	}{{instancehub.OpStop, instancehub.StateStopped}, {instancehub.OpStart, instancehub.StateRunning}} {
		if _, err := p.Service.Act(p.Ctx, "slow-box", step.op); err != nil {
			t.Fatal(err)
		}
		p.WaitState(t, "slow-box", step.state)
	}
	jupyter.set(instancehub.Activity{}, nil)
	jupyter.mu.Lock()
	jupyter.gate = make(chan struct{})
	jupyter.mu.Unlock()
	if d, err = p.Service.InstanceDetail(p.Ctx, "slow-box"); err != nil || d.Activity.Kernels != 0 {
		t.Fatalf("%v, after a restart the details show what Jupyter said before: %+v", err, d.Activity)
	}
	close(jupyter.gate)
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
