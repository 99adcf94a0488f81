package service

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/instancehub/instancehub"
)

// Operations lists the operations of the live instance name, newest first:
// the API's history of an instance. When no live instance has the name,
// those of the one of that name deleted last, its Delete first.
func (s *Service) Operations(ctx context.Context, name string) ([]*instancehub.Operation, error) {
	inst, err := s.liveInstance(ctx, name)
	if instancehub.ErrorCode(err) == instancehub.ENOTFOUND {
		// No live instance has the name: the one of that name deleted
		// last, whose Delete a client may follow here as at the Delete's
		// own address (Operation).
		if deleted, derr := s.Instances.FindDeletedInstanceByName(ctx, name); derr == nil {
			inst, err = deleted, nil
		} else if instancehub.ErrorCode(derr) != instancehub.ENOTFOUND {
			err = derr
		}
	}
	if err != nil {
		return nil, err
	}
	return s.Instances.FindOperations(ctx, inst.ID, instancehub.HistoryLength)
}

// Operation returns the operation id of the instance name, which may be
// deleted since: a client polls a Delete to its end.
func (s *Service) Operation(ctx context.Context, name string, id int64) (*instancehub.Operation, error) {
	if _, err := authorize(ctx, instancehub.PermReadInstances, "see compute instances"); err != nil {
		s.recordDenial(ctx, "instance.read", name, err)
		return nil, err
	}
	op, err := s.Instances.FindOperation(ctx, id)
	if instancehub.ErrorCode(err) == instancehub.ENOTFOUND || (err == nil && !strings.EqualFold(op.InstanceName, name)) {
		return nil, instancehub.Errorf(instancehub.ENOTFOUND, "%s has no operation %d.", instancehub.Clip(name, instancehub.MaxResourceNameLength), id)
	} else if err != nil {
		return nil, fmt.Errorf("operation %d of %s: %w", id, name, err)
	}
	return op, nil
}

// DefaultRegion is the region a create without one goes to: the first the
// cloud offers, as the create form proposes it.
func (s *Service) DefaultRegion(ctx context.Context) (string, error) {
	if _, err := authorize(ctx, instancehub.PermReadInstances, "see compute instances"); err != nil {
		return "", err
	}
	regions, err := s.Cloud.Regions(ctx)
	if err != nil {
		return "", err
	}
	if len(regions) == 0 {
		return "", instancehub.Errorf(instancehub.EUNAVAILABLE, "The cloud offers no region.")
	}
	return regions[0].Name, nil
}

// readinessChecker is a store that can tell its schema version and the one
// this build expects.
type readinessChecker interface {
	Readiness(ctx context.Context) (current, expected int64, err error)
}

// ReadyWithin is how long Ready waits for the database: a load balancer's
// probe gets its answer in time, and a database that has not answered by
// then (a lock held, a connection stalled by a partition) is not ready.
const ReadyWithin = time.Second

// Ready tells whether the portal can serve: its database answers within
// ReadyWithin, has room to write, and its schema is the one this build
// expects (a replica of an older build, or one started before another
// migrated, is not). It returns the schema version; EUNAVAILABLE when not
// ready, saying why, or EFULL when the disk is full.
func (s *Service) Ready(ctx context.Context) (int64, error) {
	checker, ok := s.Instances.(readinessChecker)
	if !ok {
		return 0, nil
	}
	// The check is given up, and its query cancelled, once the answer is
	// due: the caller never waits on the database's own timeouts.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type readiness struct {
		current, expected int64
		err               error
	}
	answer, due := make(chan readiness, 1), make(chan error, 1)
	go func() {
		var r readiness
		r.current, r.expected, r.err = checker.Readiness(ctx)
		answer <- r
	}()
	go func() { due <- s.wait(ctx, ReadyWithin) }()
	var r readiness
	select {
	case r = <-answer:
	case err := <-due:
		if err != nil { // the caller left
			return 0, err
		}
		s.logger().ErrorContext(ctx, "readiness", "err", fmt.Errorf("the database did not answer within %s", ReadyWithin))
		return 0, instancehub.Errorf(instancehub.EUNAVAILABLE, "The database does not answer within %s.", ReadyWithin)
	}
	switch {
	case instancehub.ErrorCode(r.err) == instancehub.EFULL:
		s.logger().ErrorContext(ctx, "readiness", "err", r.err)
		return 0, r.err
	case r.err != nil:
		s.logger().ErrorContext(ctx, "readiness", "err", r.err)
		return 0, instancehub.Errorf(instancehub.EUNAVAILABLE, "The database does not answer.")
	case r.current != r.expected:
		return r.current, instancehub.Errorf(instancehub.EUNAVAILABLE, "The database's schema is at version %d; this build expects %d.", r.current, r.expected)
	}
	return r.current, nil
}
