package service

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/instancehub/instancehub"
)

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
func (s *Service) lastActivity(ctx context.Context, inst *instancehub.Instance) instancehub.Activity {
	a := instancehub.Activity{At: inst.LastActivity}
	if s.Probe == nil || inst.State != instancehub.StateRunning {
		return a
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	live, err := s.Probe.Probe(ctx, inst)
	if err != nil {
		if instancehub.ErrorCode(err) != instancehub.EUNAVAILABLE {
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
func (s *Service) ProbeActivity(ctx context.Context, inst *instancehub.Instance) (instancehub.Activity, error) {
	if s.Probe == nil {
		return instancehub.Activity{}, instancehub.Errorf(instancehub.EUNAVAILABLE, "Nothing can ask the applications of %s.", inst.Name)
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
