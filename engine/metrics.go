package engine

import (
	"time"

	"github.com/instancehub/instancehub"
)

// noMetrics tells nobody.
type noMetrics struct{}

func (noMetrics) OperationStarted(instancehub.OperationKind, instancehub.Trigger) {}

func (noMetrics) OperationEnded(*instancehub.Operation) {}

func (noMetrics) OperationsDriven(instancehub.OperationKind, int) {}

func (noMetrics) OperationsTakenOver(int) {}

func (noMetrics) OperationLost() {}

func (noMetrics) SyncLeaseHeld(bool) {}

func (noMetrics) SyncEnded(instancehub.SyncReport, time.Duration, error) {}
