package events

import (
	"context"

	"github.com/instancehub/instancehub"
)

// Store is an InstanceStore that publishes to Hub every change it commits
// to an instance: the engine's writes (a create, each operation's begin and
// end, what the sync applies) reach the pages open as they happen.
type Store struct {
	instancehub.InstanceStore
	Hub *Hub
}

func (s Store) publish(id int64) { s.Hub.Publish(instancehub.InstanceChange{ID: id}) }

// CreateInstance implements instancehub.InstanceStore.
func (s Store) CreateInstance(ctx context.Context, inst *instancehub.Instance, op *instancehub.Operation) error {
	if err := s.InstanceStore.CreateInstance(ctx, inst, op); err != nil {
		return err
	}
	s.publish(inst.ID)
	return nil
}

// AdoptInstance implements instancehub.InstanceStore.
func (s Store) AdoptInstance(ctx context.Context, inst *instancehub.Instance) error {
	if err := s.InstanceStore.AdoptInstance(ctx, inst); err != nil {
		return err
	}
	s.publish(inst.ID)
	return nil
}

// BeginOperation implements instancehub.InstanceStore.
func (s Store) BeginOperation(ctx context.Context, op *instancehub.Operation) error {
	if err := s.InstanceStore.BeginOperation(ctx, op); err != nil {
		return err
	}
	s.publish(op.InstanceID)
	return nil
}

// SaveOperationProgress implements instancehub.InstanceStore: the row shows
// the operation's step.
func (s Store) SaveOperationProgress(ctx context.Context, op *instancehub.Operation) error {
	if err := s.InstanceStore.SaveOperationProgress(ctx, op); err != nil {
		return err
	}
	s.publish(op.InstanceID)
	return nil
}

// FinishOperation implements instancehub.InstanceStore.
func (s Store) FinishOperation(ctx context.Context, op *instancehub.Operation, update instancehub.InstanceUpdate) error {
	if err := s.InstanceStore.FinishOperation(ctx, op, update); err != nil {
		return err
	}
	s.publish(op.InstanceID)
	return nil
}

// SyncInstance implements instancehub.InstanceStore.
func (s Store) SyncInstance(ctx context.Context, id, version int64, state instancehub.State) (bool, error) {
	changed, err := s.InstanceStore.SyncInstance(ctx, id, version, state)
	if changed {
		s.publish(id)
	}
	return changed, err
}

// SetSSHKey implements instancehub.InstanceStore.
func (s Store) SetSSHKey(ctx context.Context, id int64, key string) error {
	if err := s.InstanceStore.SetSSHKey(ctx, id, key); err != nil {
		return err
	}
	s.publish(id)
	return nil
}
