package service

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/instancehub/instancehub"
)

// CreateOptions returns the regions, and the sizes and networks of region
// (the default region when empty).
func (s *Service) CreateOptions(ctx context.Context, region string) (*instancehub.CreateOptions, error) {
	user, err := authorize(ctx, instancehub.PermCreateInstances, "create compute instances")
	if err != nil {
		s.recordDenial(ctx, "instance.createForm", "", err)
		return nil, err
	}
	regions, err := s.Cloud.Regions(ctx)
	if err != nil {
		return nil, err
	}
	if region == "" || !slices.ContainsFunc(regions, func(r instancehub.Region) bool { return r.Name == region }) {
		region = regions[0].Name
	}
	sizes, err := s.sizeOptions(ctx, region)
	if err != nil {
		return nil, err
	}
	networks, err := s.Cloud.VirtualNetworks(ctx, region)
	if err != nil {
		return nil, err
	}
	prices := s.sizePrices(ctx, region)
	for i := range sizes {
		sizes[i].Price, _ = instancehub.PriceOf(prices, sizes[i].Name)
	}
	opts := &instancehub.CreateOptions{Regions: regions, Region: region, Sizes: sizes, Networks: networks,
		SetupScripts: s.SetupScripts, SetupScriptFiles: s.SetupScripts && s.SetupScriptFiles,
		Identities: slices.Clone(s.UserAssignedIdentities)}
	if opts.Defaults, err = s.workspaceSettings(ctx); err != nil {
		return nil, err
	}
	if user.Can(instancehub.PermAssignInstances) {
		if opts.Assignees, err = s.assignees(ctx); err != nil {
			return nil, err
		}
	}
	return opts, nil
}

// assignees are the users an instance may be created for: those whose
// roles let them use one of their own (start, stop, open it). An instance
// made for a Reader, an Audit Reader or someone with no role would hold
// cores its owner could neither use nor stop.
func (s *Service) assignees(ctx context.Context) ([]*instancehub.User, error) {
	assignments, err := s.Roles.FindRoleAssignments(ctx, "")
	if err != nil {
		return nil, err
	}
	may := map[int64]bool{}
	for _, a := range assignments {
		if a.Role.Allows(instancehub.PermManageOwn) {
			may[a.UserID] = true
		}
	}
	users, err := s.Users.FindUsers(ctx, "", 0)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(users, func(u *instancehub.User) bool { return !may[u.ID] }), nil
}

func (s *Service) sizeOptions(ctx context.Context, region string) ([]instancehub.SizeOption, error) {
	sizes, err := s.Cloud.VMSizes(ctx, region)
	if err != nil {
		return nil, err
	}
	// The store is read before Azure: a create whose VM Azure accepts in
	// between is then counted twice, never not at all.
	ws, err := s.Quotas.WorkspaceUsage(ctx, region)
	if err != nil {
		return nil, err
	}
	usage, err := s.Cloud.Usage(ctx, region)
	if err != nil {
		return nil, err
	}
	return instancehub.FitSizes(region, sizes, s.withAdmitted(usage, ws), ws), nil
}

// withAdmitted adds to Azure's usage the creates the portal admitted whose
// VM Azure does not count yet: Azure counts a VM once it accepted its PUT,
// the last step of a create, and creates admitted before then would
// otherwise all fit into the same free cores, to be refused by Azure later.
func (s *Service) withAdmitted(usage []instancehub.Usage, ws *instancehub.WorkspaceQuota) []instancehub.Usage {
	if ws == nil {
		return usage
	}
	admitted := map[string]int{}
	for _, inst := range ws.Holders {
		if inst.State == instancehub.StateCreating && !s.vmAccepted(inst) {
			admitted[strings.ToLower(inst.Family)] += inst.VCPUs
			admitted[instancehub.TotalRegionalVCPUs] += inst.VCPUs
		}
	}
	out := slices.Clone(usage)
	for i := range out {
		out[i].Current += admitted[strings.ToLower(out[i].Name)]
	}
	return out
}

// vmAccepted reports whether Azure accepted the VM of inst's create: its
// last step has begun and Azure gave it a poller.
func (s *Service) vmAccepted(inst *instancehub.Instance) bool {
	op := inst.LastOperation
	steps := s.Cloud.Steps(instancehub.OpCreate, inst)
	return op != nil && op.Kind == instancehub.OpCreate && op.ResumeToken != "" && op.Step == steps[len(steps)-1]
}

// CheckName tells whether name is valid and free, for the live check of the
// create form.
func (s *Service) CheckName(ctx context.Context, name string) error {
	if _, err := authorize(ctx, instancehub.PermCreateInstances, "create compute instances"); err != nil {
		return err
	}
	if err := instancehub.ValidateName(name); err != nil {
		return err
	}
	return s.nameFree(ctx, name)
}

func (s *Service) nameFree(ctx context.Context, name string) error {
	existing, err := s.Instances.FindInstanceByName(ctx, name)
	switch {
	case instancehub.ErrorCode(err) == instancehub.ENOTFOUND:
		return nil
	case err != nil:
		return err
	}
	return instancehub.FieldError("name", fmt.Sprintf("An instance named %s already exists. Choose another name.", existing.Name))
}

// CreateInstance validates the form, records the instance in state Creating
// for the signed-in user, or for the user it is assigned to, and starts
// creating it in Azure. A rejected form returns an EINVALID error with a
// message per field.
func (s *Service) CreateInstance(ctx context.Context, req instancehub.CreateRequest) (inst *instancehub.Instance, err error) {
	defer func() {
		if inst == nil || !inst.Replayed {
			s.record(ctx, "instance.create", instancehub.Clip(strings.TrimSpace(req.Name), instancehub.MaxAuditTargetLength), err)
		}
	}()
	user, err := authorize(ctx, instancehub.PermCreateInstances, "create compute instances")
	if err != nil {
		return nil, err
	}
	if err := checkIdempotencyKey(req.IdempotencyKey); err != nil {
		return nil, err
	}
	owner, err := s.createdFor(ctx, user, req)
	if err != nil {
		return nil, err
	}
	// Creates are admitted one at a time, so that each one's quota check
	// counts every create admitted before it.
	s.admission.Lock()
	defer s.admission.Unlock()
	if prev, err := s.replay(ctx, user, req); prev != nil || err != nil {
		return prev, err
	}
	inst, schedules, err := s.validated(ctx, user, owner, req)
	if err != nil {
		return nil, err
	}
	inst.IdempotencyKey = req.IdempotencyKey
	if inst.AppSecret, err = instancehub.NewAppSecret(); err != nil {
		return nil, err
	}
	op, err := s.Engine.Create(ctx, inst, instancehub.TriggerUser)
	if err != nil {
		switch instancehub.ErrorCode(err) {
		case instancehub.ECONFLICT:
			// Another process may have made it, under the same key.
			if prev, err := s.replay(ctx, user, req); prev != nil || err != nil {
				return prev, err
			}
			return nil, s.nameFree(ctx, inst.Name)
		case instancehub.EQUOTA:
			// Someone took the last cores between the form and now.
			return nil, &instancehub.Error{Code: instancehub.EINVALID, Message: instancehub.ErrorMessage(err), Fields: map[string]string{"vm_size": instancehub.ErrorMessage(err)}}
		}
		return nil, err
	}
	inst.LastOperation = op
	for _, sch := range schedules {
		sch.InstanceID, sch.CreatedAt = inst.ID, inst.CreatedAt
		if err := s.Automation.AddSchedule(ctx, sch); err != nil {
			return nil, fmt.Errorf("add the schedules of %s: %w", inst.Name, err)
		}
	}
	return inst, nil
}

// createdFor is who will own the instance req asks for: the user, or the
// one it is assigned to, who alone may give it an SSH key.
func (s *Service) createdFor(ctx context.Context, user *instancehub.User, req instancehub.CreateRequest) (*instancehub.User, error) {
	owner, err := s.owner(ctx, user, req.AssignTo)
	if err != nil {
		return nil, err
	}
	if owner.ID != user.ID && req.SSHEnabled && !req.SSHKeyLater {
		// A key of the creator's would let them in as the owner, and through
		// a tunnel into the applications only the owner may open.
		return nil, instancehub.FieldError("ssh_public_key", fmt.Sprintf(
			"Only the instance's owner may give it a key: choose \"Set up an SSH key later\", and %s adds theirs on the details page.", owner.Name))
	}
	return owner, nil
}

// validated is the instance req describes, checked in full (every field
// wrong reported at once), and the schedules to add once it is recorded.
func (s *Service) validated(ctx context.Context, user, owner *instancehub.User, req instancehub.CreateRequest) (*instancehub.Instance, []*instancehub.Schedule, error) {
	idle, schedules, schedulingErr := s.validateScheduling(req)
	inst, err := s.validateCreate(ctx, req)
	if err = withFieldErrors(err, schedulingErr); err != nil {
		return nil, nil, err
	}
	inst.IdleShutdown = idle
	inst.OwnerID, inst.OwnerName, inst.OwnerEmail = owner.ID, owner.Name, owner.Email
	inst.CreatedByID, inst.CreatedByName = user.ID, user.Name
	inst.Access = access(user, inst)
	return inst, schedules, nil
}

// checkIdempotencyKey refuses a key too long or of other than printable
// ASCII, as the header's specification allows.
func checkIdempotencyKey(key string) error {
	if err := instancehub.TooLong("idempotency_key", "An Idempotency-Key", key, instancehub.MaxIdempotencyKeyLength); err != nil {
		return err
	}
	for _, r := range key {
		if r < 0x21 || r > 0x7e {
			return instancehub.FieldError("idempotency_key", "An Idempotency-Key holds printable ASCII characters only, such as a UUID.")
		}
	}
	return nil
}

// replay returns the instance user's create with req's Idempotency-Key
// made already, or nil when there is none. A key used for the create of
// another name is refused: the request is not a retry.
func (s *Service) replay(ctx context.Context, user *instancehub.User, req instancehub.CreateRequest) (*instancehub.Instance, error) {
	if req.IdempotencyKey == "" {
		return nil, nil
	}
	prev, err := s.Instances.FindInstanceByIdempotencyKey(ctx, user.ID, req.IdempotencyKey)
	switch {
	case instancehub.ErrorCode(err) == instancehub.ENOTFOUND:
		return nil, nil
	case err != nil:
		return nil, err
	case !strings.EqualFold(prev.Name, strings.TrimSpace(req.Name)):
		return nil, instancehub.FieldError("idempotency_key", fmt.Sprintf(
			"This Idempotency-Key was used for the create of %s; a create of another instance needs a key of its own.", prev.Name))
	}
	// The answer names the create, whatever happened to the instance since.
	ops, err := s.Instances.FindOperations(ctx, prev.ID, 0)
	if err != nil {
		return nil, err
	}
	for _, op := range ops {
		if op.Kind == instancehub.OpCreate {
			prev.LastOperation = op
		}
	}
	prev.Access, prev.Replayed = access(user, prev), true
	return prev, nil
}

// validateScheduling reads the Scheduling section: the idle shutdown it
// sets on inst and the schedules to add once inst is recorded. Field
// messages are named idle_minutes and schedule-N-field.
func (s *Service) validateScheduling(req instancehub.CreateRequest) (time.Duration, []*instancehub.Schedule, error) {
	fields := map[string]string{}
	idle, err := instancehub.ParseIdleShutdown(req.IdleShutdownOn, req.IdleMinutes)
	if err != nil {
		fields["idle_minutes"] = instancehub.ErrorMessage(err)
	}
	var schedules []*instancehub.Schedule
	for i, r := range req.Schedules {
		if r.Blank() {
			continue
		}
		sch, err := instancehub.ParseSchedule(r)
		for k, v := range instancehub.ErrorFields(err) {
			fields[fmt.Sprintf("schedule-%d-%s", i, k)] = v
		}
		if startErr := instancehub.CheckStartTime(r, s.now()); startErr != nil {
			fields[fmt.Sprintf("schedule-%d-start_time", i)] = instancehub.ErrorMessage(startErr)
			err = startErr
		}
		if err == nil {
			schedules = append(schedules, sch)
		}
	}
	if len(schedules) > instancehub.MaxSchedules {
		fields["schedules"] = fmt.Sprintf("An instance has at most %d schedules.", instancehub.MaxSchedules)
	}
	if len(fields) > 0 {
		return 0, nil, &instancehub.Error{Code: instancehub.EINVALID, Message: "Some settings need your attention.", Fields: fields}
	}
	return idle, schedules, nil
}

// withFieldErrors joins two validations' refusals: a form shows every
// field's message at once. Any other error wins.
func withFieldErrors(a, b error) error {
	switch {
	case b == nil:
		return a
	case a == nil || instancehub.ErrorCode(b) != instancehub.EINVALID:
		return b
	case instancehub.ErrorCode(a) != instancehub.EINVALID:
		return a
	}
	fields := map[string]string{}
	for _, err := range []error{a, b} {
		for k, v := range instancehub.ErrorFields(err) {
			fields[k] = v
		}
	}
	return &instancehub.Error{Code: instancehub.EINVALID, Message: "Some settings need your attention.", Fields: fields}
}

// owner is who a new instance belongs to: the user, or the one it is
// assigned to, which takes instances/assign.
func (s *Service) owner(ctx context.Context, user *instancehub.User, assignTo string) (*instancehub.User, error) {
	assignTo = strings.TrimSpace(assignTo)
	if assignTo == "" || strings.EqualFold(assignTo, user.Email) {
		return user, nil
	}
	if err := instancehub.TooLong("assign_to", "An email address", assignTo, instancehub.MaxEmailLength); err != nil {
		return nil, err
	}
	if !user.Can(instancehub.PermAssignInstances) {
		return nil, instancehub.Denied(instancehub.PermAssignInstances, "create instances for other users")
	}
	find, what := s.Users.FindUserByEmail, "the email"
	if !strings.Contains(assignTo, "@") {
		// az ml's create_on_behalf_of names the owner by object ID.
		find, what = s.Users.FindUserByObjectID, "the single sign-on object ID"
	}
	owner, err := find(ctx, assignTo)
	switch instancehub.ErrorCode(err) {
	case "":
	case instancehub.ENOTFOUND:
		return nil, instancehub.FieldError("assign_to", fmt.Sprintf("There is no user with %s %s.", what, assignTo))
	case instancehub.ECONFLICT:
		return nil, instancehub.FieldError("assign_to", instancehub.ErrorMessage(err)+" Name the user by email instead.")
	default:
		return nil, err
	}
	if owner.Roles, err = s.Roles.UserRoles(ctx, owner.ID); err != nil {
		return nil, err
	}
	if !owner.Can(instancehub.PermManageOwn) {
		return nil, instancehub.FieldError("assign_to", fmt.Sprintf("%s has no role that lets them use an instance of their own (%s); give them one first.",
			owner.Name, instancehub.RoleNames(instancehub.PermManageOwn.Grantors())))
	}
	return owner, nil
}

// validateCreate checks every field and reports all that are wrong at once.
func (s *Service) validateCreate(ctx context.Context, req instancehub.CreateRequest) (*instancehub.Instance, error) {
	inst := &instancehub.Instance{
		Name:       strings.TrimSpace(req.Name),
		Region:     req.Region,
		SSHEnabled: req.SSHEnabled,
		SSHPort:    instancehub.DefaultSSHPort,
	}
	fields := map[string]string{}
	// note keeps a field's message; any other error stops validation.
	note := func(err error) error {
		if instancehub.ErrorCode(err) != instancehub.EINVALID {
			return err
		}
		for k, v := range instancehub.ErrorFields(err) {
			fields[k] = v
		}
		return nil
	}
	nameErr := instancehub.ValidateName(inst.Name)
	if nameErr == nil {
		nameErr = s.nameFree(ctx, inst.Name)
	}
	if err := note(nameErr); err != nil {
		return nil, err
	}
	regionErr := s.validateRegion(ctx, req.Region)
	if err := note(regionErr); err != nil {
		return nil, err
	}
	if regionErr == nil {
		if err := note(s.validateSize(ctx, req, inst)); err != nil {
			return nil, err
		}
		if err := note(s.validateNetwork(ctx, req, inst)); err != nil {
			return nil, err
		}
	}
	if req.SSHEnabled && !req.SSHKeyLater {
		key, err := instancehub.ParseSSHPublicKey(req.SSHPublicKey)
		_ = note(err) // only ever EINVALID
		inst.SSHPublicKey = key
	}
	inst.Description = strings.TrimSpace(req.Description)
	_ = note(instancehub.TooLong("description", "A description", inst.Description, instancehub.MaxDescriptionLength))
	tags, err := instancehub.TagsOf(req)
	_ = note(err) // only ever EINVALID
	if err := instancehub.ValidateIdentity(req.Identity); err != nil {
		_ = note(err)
	} else {
		_ = note(s.identitiesAllowed(req.Identity))
	}
	inst.Tags, inst.Identity = tags, req.Identity
	inst.Setup = s.validateSetup(req.Setup, fields)
	if len(fields) > 0 {
		return nil, &instancehub.Error{Code: instancehub.EINVALID, Message: "Some settings need your attention.", Fields: fields}
	}
	return inst, nil
}

// identitiesAllowed refuses a user-assigned identity the operator did not
// list: whoever runs code on the VM acts with its rights, which may be far
// beyond the creator's own.
func (s *Service) identitiesAllowed(m instancehub.ManagedIdentity) error {
	for _, id := range m.UserAssigned {
		if !slices.ContainsFunc(s.UserAssignedIdentities, func(a string) bool { return strings.EqualFold(a, id) }) {
			if len(s.UserAssignedIdentities) == 0 {
				return instancehub.FieldError("identity", "This portal gives instances no user-assigned identity; an operator lists the ones it may give (--azure-identities).")
			}
			return instancehub.FieldError("identity", fmt.Sprintf("%s is not one of the user-assigned identities this portal may give instances: %s.",
				instancehub.Clip(id, instancehub.MaxAuditTargetLength), strings.Join(s.UserAssignedIdentities, ", ")))
		}
	}
	return nil
}

func (s *Service) validateRegion(ctx context.Context, region string) error {
	regions, err := s.Cloud.Regions(ctx)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(regions, func(r instancehub.Region) bool { return r.Name == region }) {
		return instancehub.FieldError("region", "Choose one of the regions offered.")
	}
	return nil
}

func (s *Service) validateSize(ctx context.Context, req instancehub.CreateRequest, inst *instancehub.Instance) error {
	if req.VMSize == "" {
		return instancehub.FieldError("vm_size", "Choose a virtual machine size.")
	}
	if err := instancehub.TooLong("vm_size", "A size's name", req.VMSize, instancehub.MaxResourceNameLength); err != nil {
		return err
	}
	options, err := s.sizeOptions(ctx, req.Region)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(options, func(o instancehub.SizeOption) bool { return strings.EqualFold(o.Name, req.VMSize) })
	if i < 0 {
		return instancehub.FieldError("vm_size", fmt.Sprintf("%s is not offered in this region.", req.VMSize))
	}
	if !options[i].Fits {
		return instancehub.FieldError("vm_size", options[i].Reason)
	}
	size := options[i].VMSize
	inst.VMSize, inst.Family, inst.VCPUs, inst.MemoryGiB, inst.GPUs = size.Name, size.Family, size.VCPUs, size.MemoryGiB, size.GPUs
	return nil
}

// validateNetwork checks the chosen network and subnet, or picks the
// region's default: its first network and that network's "default" subnet.
// A network may be named by its resource ID (a file's subnet ID names it
// so); it is then one of those offered, matched by ID and never by its
// name alone, which another resource group may hold too.
func (s *Service) validateNetwork(ctx context.Context, req instancehub.CreateRequest, inst *instancehub.Instance) error {
	if strings.HasPrefix(req.VirtualNetwork, "/") {
		if err := instancehub.TooLong("virtual_network", "A virtual network's resource ID", req.VirtualNetwork, instancehub.MaxResourceIDLength); err != nil {
			return err
		}
	} else if err := instancehub.TooLong("virtual_network", "A virtual network's name", req.VirtualNetwork, instancehub.MaxResourceNameLength); err != nil {
		return err
	}
	if err := instancehub.TooLong("subnet", "A subnet's name", req.Subnet, instancehub.MaxResourceNameLength); err != nil {
		return err
	}
	networks, err := s.Cloud.VirtualNetworks(ctx, req.Region)
	if err != nil {
		return err
	}
	if req.VirtualNetwork == "" {
		network, subnet, ok := instancehub.DefaultSubnet(networks)
		if !ok {
			return instancehub.FieldError("virtual_network", "This region has no virtual network with a subnet the portal may use.")
		}
		inst.VirtualNetwork, inst.Subnet = network, subnet
		return nil
	}
	i := instancehub.FindNetwork(networks, req.VirtualNetwork)
	switch {
	case i < 0 && strings.HasPrefix(req.VirtualNetwork, "/"):
		return instancehub.FieldError("virtual_network", fmt.Sprintf("The virtual network %s is not one instances may join in this region: "+
			"they join the networks of the portal's resource group, and one an operator names in another group of the portal's subscription (--azure-vnet).", req.VirtualNetwork))
	case i < 0:
		return instancehub.FieldError("virtual_network", fmt.Sprintf("There is no virtual network %s in this region.", instancehub.Clip(req.VirtualNetwork, instancehub.MaxResourceNameLength)))
	}
	network := networks[i]
	if req.Subnet == "" {
		return instancehub.FieldError("subnet", "Choose a subnet of "+network.Name+".")
	}
	if !slices.ContainsFunc(network.Subnets, func(s instancehub.Subnet) bool { return s.Name == req.Subnet }) {
		return instancehub.FieldError("subnet", fmt.Sprintf("%s has no subnet %s.", network.Name, req.Subnet))
	}
	inst.VirtualNetwork, inst.Subnet = network.Name, req.Subnet
	return nil
}

// NetworkRef is how instances record the network ref names in region: by
// name in the portal's resource group, by resource ID elsewhere; ref itself
// when no network offered there matches. A file naming an instance's
// network by its subnet's resource ID then compares equal to the
// instance's, and one naming a network of the same name in another
// resource group does not.
func (s *Service) NetworkRef(ctx context.Context, region, ref string) string {
	if ref == "" || len(ref) > instancehub.MaxResourceIDLength {
		return ref
	}
	networks, err := s.Cloud.VirtualNetworks(ctx, region)
	if i := instancehub.FindNetwork(networks, ref); err == nil && i >= 0 {
		return networks[i].Name
	}
	return ref
}

// validateSetup checks the setup scripts of a create, noting what is wrong
// in fields, and returns them with their defaults set. Where the portal
// cannot run them they are refused, not kept to never run; so is a file
// where the runner has no owner's files to read it from (on Azure).
func (s *Service) validateSetup(req instancehub.SetupScripts, fields map[string]string) instancehub.SetupScripts {
	if !req.Any() {
		return req
	}
	if !s.SetupScripts {
		fields["setup_scripts"] = "This portal cannot run setup scripts on its instances. Create the instance without them."
		return instancehub.SetupScripts{}
	}
	for prefix, script := range map[string]*instancehub.SetupScript{"creation_script": req.Creation, "startup_script": req.Startup} {
		errs := instancehub.ValidateSetupScript(script, prefix)
		if script != nil && script.Path != "" && !s.SetupScriptFiles && len(errs) == 0 {
			errs[prefix+".path"] = "Give the script inline: on Azure the instance has no files folder the portal can read it from."
		}
		maps.Copy(fields, errs)
	}
	return req
}
