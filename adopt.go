package instancehub

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// CheckRecordsMatchCloud is called at start, before the first account is
// made. ECONFLICT, naming the VMs, when the database has no account while
// the cloud has virtual machines this portal made: the database was lost or
// emptied, and a fresh start over it would make a new Owner, list nothing,
// and leave the VMs running up costs and holding quota unseen.
func (s *Service) CheckRecordsMatchCloud(ctx context.Context) error {
	if n, err := s.Users.CountUsers(ctx); err != nil || n > 0 {
		return err
	}
	vms, err := s.unrecordedVMs(ctx)
	if err != nil {
		return err
	}
	if len(vms) == 0 {
		return nil
	}
	names := make([]string, len(vms))
	for i, vm := range vms {
		names[i] = vm.Instance
	}
	return Errorf(ECONFLICT, "The database is empty, but the cloud has %d virtual machines this portal made (%s): the database may have been lost.",
		len(vms), strings.Join(names, ", "))
}

// AdoptVMs rebuilds an instance for every virtual machine of the portal that
// no live instance records, from its tags and what Azure says of it, and
// audits each. An instance goes to the account of its owner tag's email when
// there is one; otherwise to the first Owner, since a new account made from
// a tag could not be signed in to (no password, no single sign-on subject)
// and would block that person's single sign-on by holding their email.
func (s *Service) AdoptVMs(ctx context.Context) ([]*Instance, error) {
	vms, err := s.unrecordedVMs(ctx)
	if err != nil || len(vms) == 0 {
		return nil, err
	}
	fallback, err := s.firstOwner(ctx)
	if err != nil {
		return nil, err
	}
	var adopted []*Instance
	for _, vm := range vms {
		inst, err := s.adopt(ctx, vm, fallback)
		s.record(ctx, "instance.adopt", fmt.Sprintf("%s (its VM's owner tag: %s)", vm.Instance, vm.OwnerEmail), err)
		if err != nil {
			return adopted, fmt.Errorf("adopt %s: %w", vm.Instance, err)
		}
		adopted = append(adopted, inst)
	}
	return adopted, nil
}

// AdoptUnrecorded adopts, of the VMs a sync found that carry this portal's
// tag and that no instance records, each as AdoptVMs does at start: after a
// restore, the cloud holds what was made since the backup, and the portal
// never leaves a VM it made running unseen. Each is read again alone, with
// what rebuilds its instance; each adoption is audited, and every Owner is
// told on their next visit. A VM recorded meanwhile (a create that began
// after the sync read the instances), gone, or being deleted is left alone.
func (s *Service) AdoptUnrecorded(ctx context.Context, names []string) ([]*Instance, error) {
	var vms []PortalVM
	for _, name := range names {
		if _, err := s.Instances.FindInstanceByName(ctx, name); err == nil {
			continue
		} else if ErrorCode(err) != ENOTFOUND {
			return nil, err
		}
		vm, err := s.Cloud.PortalVM(ctx, name)
		switch {
		case ErrorCode(err) == ENOTFOUND:
		case err != nil:
			return nil, fmt.Errorf("read the virtual machine %s: %w", name, err)
		case vm.ProvisioningState != "deleting":
			vms = append(vms, *vm)
		}
	}
	if len(vms) == 0 {
		return nil, nil
	}
	fallback, err := s.firstOwner(ctx)
	if err != nil {
		return nil, err
	}
	var adopted []*Instance
	var failed []error
	for _, vm := range vms {
		inst, err := s.adopt(ctx, vm, fallback)
		if ErrorCode(err) == ECONFLICT { // recorded since it was looked up
			continue
		}
		s.record(ctx, "instance.adopt", fmt.Sprintf("%s (its VM's owner tag: %s; no record named it)", vm.Instance, vm.OwnerEmail), err)
		if err != nil {
			failed = append(failed, fmt.Errorf("adopt %s: %w", vm.Instance, err))
			continue
		}
		adopted = append(adopted, inst)
	}
	s.tellOwners(ctx, adopted)
	return adopted, errors.Join(failed...)
}

// tellOwners keeps, for every Owner's next visit, the names of the
// instances the portal adopted, the first few of them.
func (s *Service) tellOwners(ctx context.Context, adopted []*Instance) {
	if len(adopted) == 0 || s.Automation == nil {
		return
	}
	names := make([]string, 0, min(len(adopted), 10))
	for _, inst := range adopted[:min(len(adopted), 10)] {
		names = append(names, inst.Name)
	}
	list := strings.Join(names, ", ")
	if len(adopted) > len(names) {
		list += fmt.Sprintf(" and %d more", len(adopted)-len(names))
	}
	msg := fmt.Sprintf("The portal adopted %d instances whose virtual machines it had no record of, as after a restore from a backup: %s. "+
		"Each went to the owner its VM's tag names, or to the first Owner; the audit log lists them (instance.adopt).", len(adopted), list)
	owners, err := s.Roles.FindRoleAssignments(ctx, RoleOwner)
	if err != nil {
		s.logger().Error("tell the Owners of adopted instances", "err", err)
		return
	}
	for _, a := range owners {
		if err := s.Automation.AddUserNotice(ctx, a.UserID, msg, s.now()); err != nil {
			s.logger().Error("tell an Owner of adopted instances", "user", a.UserID, "err", err)
		}
	}
}

func (s *Service) adopt(ctx context.Context, vm PortalVM, fallback *User) (*Instance, error) {
	size, err := s.sizeOf(ctx, vm.Region, vm.VMSize)
	if err != nil {
		return nil, err
	}
	owner, err := s.Users.FindUserByEmail(ctx, vm.OwnerEmail)
	if ErrorCode(err) == ENOTFOUND || vm.OwnerEmail == "" {
		owner, err = fallback, nil
	} else if err != nil {
		return nil, err
	}
	inst := &Instance{
		Name: vm.Instance, Region: vm.Region,
		VMSize: size.Name, Family: size.Family, VCPUs: size.VCPUs, MemoryGiB: size.MemoryGiB, GPUs: size.GPUs,
		SSHEnabled: vm.SSHPublicKey != "", SSHPublicKey: vm.SSHPublicKey, SSHPort: DefaultSSHPort,
		VirtualNetwork: vm.VirtualNetwork, Subnet: vm.Subnet,
		State: vm.State(), PrivateIP: vm.PrivateIP, PublicIP: vm.PublicIP, Image: vm.Image,
		OwnerID: owner.ID, OwnerName: owner.Name, OwnerEmail: owner.Email, CreatedByID: owner.ID,
		CreatedAt: vm.CreatedAt,
	}
	if err := s.Instances.AdoptInstance(ctx, inst); err != nil {
		return nil, err
	}
	return inst, nil
}

// unrecordedVMs lists the portal's VMs that no live instance is named after.
func (s *Service) unrecordedVMs(ctx context.Context) ([]PortalVM, error) {
	vms, err := s.Cloud.PortalVMs(ctx)
	if err != nil {
		return nil, fmt.Errorf("list the portal's virtual machines: %w", err)
	}
	var out []PortalVM
	for _, vm := range vms {
		_, err := s.Instances.FindInstanceByName(ctx, vm.Instance)
		switch {
		case ErrorCode(err) == ENOTFOUND:
			out = append(out, vm)
		case err != nil:
			return nil, err
		}
	}
	return out, nil
}

// firstOwner is the Owner whose account is oldest.
func (s *Service) firstOwner(ctx context.Context) (*User, error) {
	owners, err := s.Roles.FindRoleAssignments(ctx, RoleOwner)
	if err != nil {
		return nil, err
	}
	var first int64
	for _, a := range owners {
		if first == 0 || a.UserID < first {
			first = a.UserID
		}
	}
	if first == 0 {
		return nil, Errorf(ECONFLICT, "There is no Owner to adopt the virtual machines into.")
	}
	return s.Users.FindUserByID(ctx, first)
}

// sizeOf reads a size's family, vCPUs and memory from the region's
// catalog, so the adopted instance counts toward quota as it should.
func (s *Service) sizeOf(ctx context.Context, region, name string) (VMSize, error) {
	sizes, err := s.Cloud.VMSizes(ctx, region)
	if err != nil {
		return VMSize{}, err
	}
	for _, size := range sizes {
		if strings.EqualFold(size.Name, name) {
			return size, nil
		}
	}
	return VMSize{}, Errorf(EINVALID, "The size %s of the virtual machine is not offered in %s, so its quota cannot be counted.", name, region)
}
