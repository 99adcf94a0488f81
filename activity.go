package instancehub

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Activity is what is known of the use of an instance's applications: what
// the details page shows and what idle shutdown decides on.
type Activity struct {
	// At is the last time a person used the applications: a page load, a
	// change or a message on a WebSocket through the gateway, or Jupyter's
	// own last activity. Zero when nobody ever has.
	At time.Time
	// As Jupyter counts them: its kernels, those busy now, the open kernel
	// connections (a notebook open in a tab) and the open terminals.
	Kernels, BusyKernels, Connections, Terminals int
}

// InUse tells whether the applications are working or open right now,
// whatever the time of the last activity: a computation running, a notebook
// connected to its kernel, or a terminal open. Idle shutdown never stops an
// instance in use.
func (a Activity) InUse() bool {
	return a.BusyKernels > 0 || a.Connections > 0 || a.Terminals > 0
}

// Loss says what stopping the applications now would end, for a Stop,
// Restart or Delete to ask first: "1 notebook connected: unsaved changes
// will be lost.", with the open terminals too; "" when no notebook is
// connected to its kernel and no terminal is open.
func (a Activity) Loss() string {
	var parts []string
	if a.Connections > 0 {
		parts = append(parts, count(a.Connections, "notebook connected", "notebooks connected"))
	}
	if a.Terminals > 0 {
		parts = append(parts, count(a.Terminals, "terminal open", "terminals open"))
	}
	if len(parts) == 0 {
		return ""
	}
	return strings.Join(parts, " and ") + ": unsaved changes will be lost."
}

func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// ApplicationProbe asks the applications of a running instance how they are
// used.
type ApplicationProbe interface {
	// Probe returns the Activity that inst's Jupyter reports.
	// EUNAVAILABLE when its applications are not running or cannot be
	// reached (offline, a server never opened: nobody is using it).
	Probe(ctx context.Context, inst *Instance) (Activity, error)
}

// activityEvery is how often an instance's activity is written: idle
// shutdown counts in minutes, and a write per request would cost every
// request a database write.
const activityEvery = time.Minute

// RecordActivity notes that a person used the applications of instance name
// at at. The applications gateway calls it, after its own check that the
// person may; it writes at most once per minute per instance and never
// moves the time back.
func (s *Service) RecordActivity(ctx context.Context, name string, at time.Time) error {
	if !s.activity.due(name, at) {
		return nil
	}
	return s.Instances.RecordActivity(ctx, name, at)
}

// lastActivity returns what is known of the use of inst's applications:
// the time stored, and, when the instance is running and a probe is set,
// what its Jupyter says now (within a second: the details page waits for
// it). Probe failures leave only the stored time.
func (s *Service) lastActivity(ctx context.Context, inst *Instance) Activity {
	a := Activity{At: inst.LastActivity}
	if s.Probe == nil || inst.State != StateRunning {
		return a
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	live, err := s.Probe.Probe(ctx, inst)
	if err != nil {
		if ErrorCode(err) != EUNAVAILABLE {
			s.logger().WarnContext(ctx, "probe applications", "instance", inst.Name, "err", err)
		}
		return a
	}
	if live.At.Before(a.At) {
		live.At = a.At
	}
	return live
}

// ProbeActivity asks the applications of the running inst how they are
// used, as idle shutdown does before it stops an instance that looks idle.
// EUNAVAILABLE when no probe is set.
func (s *Service) ProbeActivity(ctx context.Context, inst *Instance) (Activity, error) {
	if s.Probe == nil {
		return Activity{}, Errorf(EUNAVAILABLE, "Nothing can ask the applications of %s.", inst.Name)
	}
	return s.Probe.Probe(ctx, inst)
}

// throttle lets a thing happen at most once per activityEvery for each key.
type throttle struct {
	mu   sync.Mutex
	last map[string]time.Time
}

// maxThrottled bounds the keys a throttle remembers; past it, it forgets
// them all, which costs at most one extra write each.
const maxThrottled = 100_000

func (t *throttle) due(key string, at time.Time) bool {
	key = strings.ToLower(key)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.last == nil || len(t.last) >= maxThrottled {
		t.last = make(map[string]time.Time)
	}
	if last, ok := t.last[key]; ok && at.Sub(last) < activityEvery && !at.Before(last) {
		return false
	}
	t.last[key] = at
	return true
}
