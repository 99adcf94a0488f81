package instancehub

import (
	"context"
	"time"
)

// Placeholder until main's activity.go is merged; deleted then.
type Activity struct {
	At                                           time.Time
	Kernels, BusyKernels, Connections, Terminals int
}

func (a Activity) InUse() bool { return a.BusyKernels > 0 || a.Connections > 0 || a.Terminals > 0 }

type ApplicationProbe interface {
	Probe(ctx context.Context, inst *Instance) (Activity, error)
}

func (s *Service) RecordActivity(ctx context.Context, name string, at time.Time) error { return nil }
