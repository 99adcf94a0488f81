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
// what its Jupyter says now (within a second: the action waits for it, as
// what it would end must be told before it is confirmed). Probe failures
// leave only the stored time.
func (s *Service) lastActivity(ctx context.Context, inst *instancehub.Instance) instancehub.Activity {
	a := instancehub.Activity{At: inst.LastActivity}
	if s.Probe == nil || inst.State != instancehub.StateRunning {
		return a
	}
	live, ok := s.probe(ctx, inst)
	if !ok {
		return a
	}
	return later(a, live)
}

// probe asks inst's Jupyter how it is used, within a second; ok is false
// when it could not say.
func (s *Service) probe(ctx context.Context, inst *instancehub.Instance) (instancehub.Activity, bool) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	live, err := s.Probe.Probe(ctx, inst)
	if err != nil {
		if instancehub.ErrorCode(err) != instancehub.EUNAVAILABLE {
			s.logger().WarnContext(ctx, "probe applications", "instance", inst.Name, "err", err)
		}
		return instancehub.Activity{}, false
	}
	return live, true
}

// later is what Jupyter said, with the stored time when the gateway saw a
// later use than Jupyter tells of.
func later(stored, live instancehub.Activity) instancehub.Activity {
	if live.At.Before(stored.At) {
		live.At = stored.At
	}
	return live
}

// activityFresh is how long what a Jupyter said serves its instance's
// details before it is asked again.
const activityFresh = 10 * time.Second

// shownActivity is lastActivity for the details page, which never waits
// for a Jupyter: it shows what the instance's Jupyter said last, while
// that was said at this version of the instance (any change of the
// instance, a stop or a start, forgets it), and asks again in the
// background once that is older than activityFresh. Until a first answer,
// the stored time.
func (s *Service) shownActivity(ctx context.Context, inst *instancehub.Instance) instancehub.Activity {
	a := instancehub.Activity{At: inst.LastActivity}
	if s.Probe == nil || inst.State != instancehub.StateRunning {
		return a
	}
	live, ok, ask := s.asked.lookup(inst.Name, inst.Version, s.now())
	if ask {
		asked := *inst
		go func() {
			live, ok := s.probe(context.WithoutCancel(ctx), &asked)
			s.asked.answer(asked.Name, asked.Version, live, ok, s.now())
		}()
	}
	if !ok {
		return a
	}
	return later(a, live)
}

// askedApps keeps what each running instance's Jupyter said last.
type askedApps struct {
	mu   sync.Mutex
	kept map[string]*askedApp
}

type askedApp struct {
	version int64 // the instance's, when asked
	live    instancehub.Activity
	ok      bool      // Jupyter answered
	at      time.Time // when it answered; zero before
	asking  bool
}

// lookup is what name's Jupyter said at version, if it did; ask is true
// when the caller is to ask it (nothing said at this version yet, or said
// longer than activityFresh ago, and nobody asking).
func (k *askedApps) lookup(name string, version int64, now time.Time) (live instancehub.Activity, ok, ask bool) {
	key := strings.ToLower(name)
	k.mu.Lock()
	defer k.mu.Unlock()
	e := k.kept[key]
	if e == nil || e.version != version {
		if k.kept == nil || len(k.kept) >= maxThrottled {
			k.kept = make(map[string]*askedApp)
		}
		k.kept[key] = &askedApp{version: version, asking: true}
		return instancehub.Activity{}, false, true
	}
	if !e.asking && !e.at.IsZero() && now.Sub(e.at) >= activityFresh {
		e.asking, ask = true, true
	}
	return e.live, e.ok, ask
}

// answer keeps what name's Jupyter said at version, unless the instance
// changed since.
func (k *askedApps) answer(name string, version int64, live instancehub.Activity, ok bool, now time.Time) {
	k.mu.Lock()
	defer k.mu.Unlock()
	e := k.kept[strings.ToLower(name)]
	if e == nil || e.version != version {
		return
	}
	e.live, e.ok, e.at, e.asking = live, ok, now, false
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
