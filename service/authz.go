package service

import (
	"context"
	"fmt"

	"github.com/instancehub/instancehub"
)

// authorize returns the signed-in user when they hold p. doing completes
// "You need the … permission to …" in the refusal.
func authorize(ctx context.Context, p instancehub.Permission, doing string) (*instancehub.User, error) {
	user := instancehub.UserFromContext(ctx)
	switch {
	case user == nil:
		return nil, instancehub.Errorf(instancehub.EUNAUTHORIZED, "Sign in to continue.")
	case !user.HasRole():
		return nil, instancehub.Errorf(instancehub.EFORBIDDEN, "You have no role in this workspace yet. Ask an Owner for access.")
	case user.ReadOnly && !p.ForReading():
		return nil, readOnlyRefusal(doing)
	case !user.Can(p):
		return nil, instancehub.Denied(p, doing)
	}
	return user, nil
}

// readOnlyRefusal refuses a change asked with a read-only token.
func readOnlyRefusal(doing string) *instancehub.Error {
	return instancehub.Errorf(instancehub.EFORBIDDEN, "This token is read-only: it cannot %s. Use a token without the read-only scope.", doing)
}

// access works out what user may do with inst.
func access(user *instancehub.User, inst *instancehub.Instance) instancehub.Access {
	mine := user != nil && inst.OwnerID == user.ID
	return instancehub.Access{
		Manage:    user.Can(instancehub.PermManageAll) || (mine && user.Can(instancehub.PermManageOwn)),
		OpenApps:  mine && user.Can(instancehub.PermReadInstances),
		AddSSHKey: mine && inst.SSHEnabled && user.Can(instancehub.PermManageOwn),
		BootLog:   user.Can(instancehub.PermReadBootLogs),
	}
}

// authorizeManage checks that the user may act on inst: anyone's with
// instances/manage, their own with instances/manage-own.
func authorizeManage(ctx context.Context, inst *instancehub.Instance, kind instancehub.OperationKind) (*instancehub.User, error) {
	return authorizeChange(ctx, inst, kind.Verb())
}

// authorizeChange checks that the user may manage inst; verb completes
// "… to verb your own instances" in the refusal.
func authorizeChange(ctx context.Context, inst *instancehub.Instance, verb string) (*instancehub.User, error) {
	user, err := authorize(ctx, instancehub.PermReadInstances, "see compute instances")
	if err != nil {
		return nil, err
	}
	if access(user, inst).Manage {
		return user, nil
	}
	if user.ReadOnly {
		return nil, readOnlyRefusal(fmt.Sprintf("%s %s", verb, inst.Name))
	}
	if inst.OwnerID == user.ID {
		return nil, instancehub.Denied(instancehub.PermManageOwn, fmt.Sprintf("%s your own instances", verb))
	}
	return nil, instancehub.Denied(instancehub.PermManageAll, fmt.Sprintf("%s %s, which belongs to %s", verb, inst.Name, inst.OwnerName))
}
