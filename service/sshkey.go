package service

import (
	"context"
	"fmt"
	"strings"

	"github.com/instancehub/instancehub"
)

// AddSSHKey has Azure make the signed-in user's SSH public key the key of
// their running instance, for one created with SSH on and its key left for
// later, or to replace the key it has (the old one stops working). Only the instance's owner may: the key
// opens a shell as the instance's user, which is theirs alone, as its
// applications are.
func (s *Service) AddSSHKey(ctx context.Context, name, key string) (inst *instancehub.Instance, err error) {
	defer func() { s.record(ctx, "instance.sshKey", name, err) }()
	user, err := authorize(ctx, instancehub.PermManageOwn, "add an SSH key to your instance")
	if err != nil {
		return nil, err
	}
	inst, err = s.Instances.FindInstanceByName(ctx, name)
	if err != nil {
		return nil, err
	}
	switch {
	case inst.OwnerID != user.ID:
		return nil, instancehub.Errorf(instancehub.EFORBIDDEN, "Only the owner of %s, %s, may add an SSH key to it.", inst.Name, inst.OwnerName)
	case !inst.SSHEnabled:
		return nil, instancehub.Errorf(instancehub.ECONFLICT, "SSH access is off for %s; it is chosen when an instance is created.", inst.Name)
	case inst.State != instancehub.StateRunning:
		return nil, instancehub.Errorf(instancehub.ECONFLICT, "%s is %s; start it first: Azure adds keys to a running VM only.", inst.Name, strings.ToLower(inst.State.Label()))
	case inst.LastOperation != nil && inst.LastOperation.Status == instancehub.StatusInProgress:
		return nil, instancehub.Errorf(instancehub.ECONFLICT, "%s has an operation in progress; add the key once it has finished.", inst.Name)
	}
	parsed, err := instancehub.ParseSSHPublicKey(key)
	if err != nil {
		return nil, err
	}
	adder, ok := s.Cloud.(instancehub.SSHKeyAdder)
	if !ok {
		return nil, instancehub.Errorf(instancehub.EUNAVAILABLE, "This cloud cannot add an SSH key to a running instance.")
	}
	// Azure takes a minute or so: the key is applied and recorded even if
	// the person who asked stops waiting, so that the page and the VM agree.
	work, cancel := context.WithTimeout(context.WithoutCancel(ctx), instancehub.SSHKeyTimeout)
	defer cancel()
	if err := adder.AddSSHKey(work, inst, parsed); err != nil {
		return nil, err
	}
	if err := s.Instances.SetSSHKey(work, inst.ID, parsed); err != nil {
		return nil, fmt.Errorf("record the SSH key of %s: %w", inst.Name, err)
	}
	inst.SSHPublicKey = parsed
	inst.Access = access(user, inst)
	return inst, nil
}
