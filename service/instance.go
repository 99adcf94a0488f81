package service

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/instancehub/instancehub"
)

// ListInstances returns a page of instances.
func (s *Service) ListInstances(ctx context.Context, q instancehub.ListQuery) (*instancehub.InstancePage, error) {
	user, err := authorize(ctx, instancehub.PermReadInstances, "see compute instances")
	if err != nil {
		s.recordDenial(ctx, "instance.list", "", err)
		return nil, err
	}
	q.Sort = instancehub.ParseInstanceSort(string(q.Sort))
	q.Search = instancehub.Prefix(strings.TrimSpace(q.Search), instancehub.MaxSearchLength)
	if q.Page < 1 {
		q.Page = 1
	}
	filter := instancehub.InstanceFilter{Search: q.Search, Sort: q.Sort, Offset: (q.Page - 1) * instancehub.PageSize, Limit: instancehub.PageSize, Brief: q.Brief}
	if q.OnlyMine {
		filter.OwnerID = user.ID
	}
	var ownerError string
	if q.Owner = strings.TrimSpace(q.Owner); q.Owner != "" {
		q.Owner = instancehub.Prefix(q.Owner, instancehub.MaxEmailLength)
		id, err := s.ownerID(ctx, q.Owner)
		if err != nil && instancehub.ErrorCode(err) != instancehub.ENOTFOUND {
			return nil, err
		}
		switch {
		case err != nil:
			ownerError, filter.OwnerID = fmt.Sprintf("No account has the email %s.", q.Owner), noOwner
		case q.OnlyMine && id != user.ID:
			filter.OwnerID = noOwner // only mine, and only theirs: none
		default:
			filter.OwnerID = id
		}
	}
	if q.OldImage {
		// Which image is old is the cloud's to say, not the store's: the
		// filter reads every instance that matches the rest and pages them here.
		filter.Offset, filter.Limit = 0, 0
	}
	instances, total, err := s.Instances.FindInstances(ctx, filter)
	if err != nil {
		return nil, err
	}
	s.setOSImages(ctx, instances)
	if q.OldImage {
		instances = slices.DeleteFunc(instances, func(inst *instancehub.Instance) bool { return inst.OSImage == nil || inst.OSImage.IsLatest() })
		total = len(instances)
		from := min(len(instances), (q.Page-1)*instancehub.PageSize)
		instances = instances[from:min(len(instances), from+instancehub.PageSize)]
	}
	for _, inst := range instances {
		inst.Access = access(user, inst)
	}
	if !q.NoNextStops {
		if err := s.setAutoStops(ctx, instances); err != nil {
			return nil, err
		}
	}
	return &instancehub.InstancePage{Query: q, Instances: instances, Total: total, Pages: max(1, (total+instancehub.PageSize-1)/instancehub.PageSize),
		OwnerError: ownerError}, nil
}

// noOwner is an owner ID no account has: a filter that keeps nothing.
const noOwner = -1

// ownerID is the ID of the account with email; ENOTFOUND when none.
func (s *Service) ownerID(ctx context.Context, email string) (int64, error) {
	u, err := s.Users.FindUserByEmail(ctx, email)
	if err != nil {
		return 0, err
	}
	return u.ID, nil
}

// InstanceOwners lists the accounts that own live instances, by name, for
// the list's owner filter: for those who may see instances.
func (s *Service) InstanceOwners(ctx context.Context) ([]*instancehub.User, error) {
	if _, err := authorize(ctx, instancehub.PermReadInstances, "see compute instances"); err != nil {
		return nil, err
	}
	users, err := s.Users.FindUsers(ctx, "", 0)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(users, func(u *instancehub.User) bool { return u.Instances == 0 }), nil
}

// Instance returns one live instance.
func (s *Service) Instance(ctx context.Context, name string) (*instancehub.Instance, error) {
	inst, err := s.liveInstance(ctx, name)
	if err != nil {
		return nil, err
	}
	if err := s.setAutoStops(ctx, []*instancehub.Instance{inst}); err != nil {
		return nil, err
	}
	return inst, nil
}

// liveInstance returns one live instance the signed-in user may see, with
// their access to it.
func (s *Service) liveInstance(ctx context.Context, name string) (*instancehub.Instance, error) {
	user, err := authorize(ctx, instancehub.PermReadInstances, "see compute instances")
	if err != nil {
		s.recordDenial(ctx, "instance.read", name, err)
		return nil, err
	}
	inst, err := s.Instances.FindInstanceByName(ctx, name)
	if err != nil {
		return nil, err
	}
	inst.Access = access(user, inst)
	s.setOSImages(ctx, []*instancehub.Instance{inst})
	return inst, nil
}

// InstanceWithSchedules returns a live instance with its start/stop
// schedules, read once for both the schedules and the automatic stop due
// (what the details page and the API show of them).
func (s *Service) InstanceWithSchedules(ctx context.Context, name string) (*instancehub.Instance, []*instancehub.Schedule, error) {
	inst, err := s.liveInstance(ctx, name)
	if err != nil {
		return nil, nil, err
	}
	schedules, err := s.Automation.FindSchedules(ctx, inst.ID)
	if err != nil {
		return nil, nil, err
	}
	if inst.State == instancehub.StateRunning {
		now := s.now()
		inst.NextStop = instancehub.NextStop(inst, schedules, now)
		inst.AutoStop = inst.NextStop.Notice(now)
	}
	return inst, schedules, nil
}

// InstanceDetail returns an instance with its operations, newest first.
func (s *Service) InstanceDetail(ctx context.Context, name string) (*instancehub.InstanceDetail, error) {
	inst, schedules, err := s.InstanceWithSchedules(ctx, name)
	if err != nil {
		return nil, err
	}
	ops, err := s.Instances.FindOperations(ctx, inst.ID, instancehub.HistoryLength)
	if err != nil {
		return nil, err
	}
	d := &instancehub.InstanceDetail{Instance: inst, Operations: ops, StoppedBilling: s.StoppedBilling(inst), Schedules: schedules,
		Unavailable: map[string]string{}, Activity: s.shownActivity(ctx, inst), IdleStopAt: instancehub.IdleStopAt(inst)}
	if d.Cost, err = s.instanceCost(ctx, inst); err != nil {
		return nil, err
	}
	if d.SetupRun, err = s.Instances.SetupRun(ctx, inst.ID); err != nil {
		return nil, err
	}
	for _, app := range instancehub.Applications {
		if reason := s.ApplicationUnavailable(ctx, inst, app.Slug); reason != "" {
			d.Unavailable[app.Slug] = reason
		}
	}
	return d, nil
}

// Act starts a Start, Stop, Restart or Delete of the named instance.
func (s *Service) Act(ctx context.Context, name string, kind instancehub.OperationKind) (inst *instancehub.Instance, err error) {
	defer func() { s.record(ctx, "instance."+kind.Verb(), name, err) }()
	if kind == instancehub.OpCreate {
		return nil, instancehub.Errorf(instancehub.EINVALID, "Use the create form to create an instance.")
	}
	if _, err := authorize(ctx, instancehub.PermReadInstances, "see compute instances"); err != nil {
		return nil, err
	}
	inst, err = s.Instances.FindInstanceByName(ctx, name)
	if err != nil {
		return nil, err
	}
	user, err := authorizeManage(ctx, inst, kind)
	if err != nil {
		return nil, err
	}
	op, err := s.Engine.Submit(ctx, inst, kind, instancehub.TriggerUser)
	if err != nil {
		return nil, err
	}
	// The operation is accepted: what the person sees next is the
	// instance as it is now, or, when the database cannot say that
	// (a blink the engine outlasts), as the operation left it. Its
	// acceptance is never answered with an error they might act on
	// by asking again.
	if now, ferr := s.Instances.FindInstanceByID(ctx, inst.ID); ferr == nil {
		inst = now
	} else {
		s.logger().Warn("read instance after its operation was accepted", "instance", inst.Name, "op", op.ID, "err", ferr)
	}
	// The operation just begun, whatever began since.
	inst.Access, inst.LastOperation = access(user, inst), op
	return inst, nil
}

// InstanceForAction returns the named instance if the signed-in user may
// carry out kind on it, for pages that ask before acting (the delete
// confirmation).
func (s *Service) InstanceForAction(ctx context.Context, name string, kind instancehub.OperationKind) (*instancehub.Instance, error) {
	inst, err := s.Instance(ctx, name)
	if err != nil {
		return nil, err
	}
	if _, err := authorizeManage(ctx, inst, kind); err != nil {
		s.recordDenial(ctx, "instance."+kind.Verb(), name, err)
		return nil, err
	}
	return inst, nil
}

// ActionLoss returns the named instance and, for a Stop, Restart or Delete
// of it while its applications are in use, what that would end
// (Activity.Loss), for the person to confirm first; "" otherwise, and when
// its Jupyter does not answer within a second. Authorized as Act is.
func (s *Service) ActionLoss(ctx context.Context, name string, kind instancehub.OperationKind) (*instancehub.Instance, string, error) {
	inst, err := s.InstanceForAction(ctx, name, kind)
	if err != nil {
		return nil, "", err
	}
	switch kind {
	case instancehub.OpStop, instancehub.OpRestart, instancehub.OpDelete:
		return inst, s.lastActivity(ctx, inst).Loss(), nil
	}
	return inst, "", nil
}

// Refresh reconciles the list with Azure now. It is a read, audited as
// reads are, only when refused: it asks Azure what the background sync
// asks every 30 s, shares that sync (Engine.Sync), and changes nothing a
// person chose, so that an auditor's log holds who changed what, not how
// often someone looked. Written one by one, a Reader's script refreshing
// in a loop wrote a row a request.
func (s *Service) Refresh(ctx context.Context) (report instancehub.SyncReport, err error) {
	if _, err := authorize(ctx, instancehub.PermReadInstances, "refresh the list of compute instances"); err != nil {
		s.recordDenial(ctx, "instance.refresh", "", err)
		return report, err
	}
	return s.Engine.Sync(ctx)
}

// ApplicationRestarted says, to the owner about to open application slug
// of the instance name, that its server was stopped to make room for
// another's since they last used it (ApplicationRestarts), so that what
// ran there is gone and it starts anew: "" when it was not, and to anyone
// but the owner, whom the open itself refuses (and audits). Ask before
// the open, which starts the server again.
func (s *Service) ApplicationRestarted(ctx context.Context, name, slug string) (string, error) {
	r, ok := s.Applications.(instancehub.ApplicationRestarts)
	user := instancehub.UserFromContext(ctx)
	app, found := instancehub.FindApplication(slug)
	if !ok || user == nil || !found {
		return "", nil
	}
	inst, err := s.Instances.FindInstanceByName(ctx, name)
	if instancehub.ErrorCode(err) == instancehub.ENOTFOUND {
		return "", nil
	} else if err != nil {
		return "", err
	}
	if inst.OwnerID != user.ID || inst.State != instancehub.StateRunning {
		return "", nil
	}
	if most, evicted := r.Evicted(inst); evicted {
		return fmt.Sprintf("%s on %s restarted: the portal runs at most %d at once, and stopped this one, the least recently used, to start another. "+
			"What its kernels and terminals held is gone; your files are kept.", app.Label, inst.Name, most), nil
	}
	return "", nil
}

// OpenApplication checks that the signed-in user owns the instance and that
// it runs, and returns it with the application. Only the owner may: Owners
// and operators included are refused, and the refusal is audited.
func (s *Service) OpenApplication(ctx context.Context, name, slug string) (inst *instancehub.Instance, app instancehub.Application, err error) {
	defer func() { s.recordDenial(ctx, "application.open", name+"/"+slug, err) }()
	user, err := authorize(ctx, instancehub.PermReadInstances, "open applications")
	if err != nil {
		return nil, app, err
	}
	app, ok := instancehub.FindApplication(slug)
	if !ok {
		return nil, app, instancehub.Errorf(instancehub.ENOTFOUND, "There is no application %q on compute instances.", instancehub.Clip(slug, instancehub.MaxResourceNameLength))
	}
	inst, err = s.Instances.FindInstanceByName(ctx, name)
	if err != nil {
		return nil, app, err
	}
	if inst.OwnerID != user.ID {
		return nil, app, instancehub.Errorf(instancehub.EFORBIDDEN, "Only the owner of %s, %s, may open its applications.", inst.Name, inst.OwnerName)
	}
	if inst.State != instancehub.StateRunning {
		return inst, app, instancehub.Errorf(instancehub.ECONFLICT, "%s is %s; start it to open %s.", inst.Name, strings.ToLower(inst.State.Label()), app.Label)
	}
	if reason := s.ApplicationUnavailable(ctx, inst, app.Slug); reason != "" {
		return inst, app, instancehub.Errorf(instancehub.EUNAVAILABLE, "%s", reason)
	}
	return inst, app, nil
}

// ApplicationOpened audits that the signed-in user opened app of inst: the
// gateway calls it once the browser has signed in on the application's
// origin, with the ticket OpenApplication allowed. Requests to an open
// application are not audited one by one; refusals are, by
// OpenApplication.
func (s *Service) ApplicationOpened(ctx context.Context, inst *instancehub.Instance, app instancehub.Application) {
	s.record(ctx, "application.open", inst.Name+"/"+app.Slug, nil)
}

// ApplicationUnavailable says why the application of slug cannot work on
// inst, for the page to show instead of offering it; "" when it can.
func (s *Service) ApplicationUnavailable(ctx context.Context, inst *instancehub.Instance, slug string) string {
	if s.Applications != nil {
		if reason := s.Applications.ApplicationUnavailable(ctx, inst, slug); reason != "" {
			return reason
		}
	}
	if c, ok := s.Cloud.(instancehub.ApplicationAvailability); ok {
		return c.ApplicationUnavailable(ctx, inst, slug)
	}
	return ""
}

// StoppedBilling says, in a sentence for the page that offers Stop, what
// inst keeps costing while stopped; "" when the cloud does not say.
func (s *Service) StoppedBilling(inst *instancehub.Instance) string {
	if c, ok := s.Cloud.(instancehub.StoppedBilling); ok {
		return c.StoppedBilling(inst)
	}
	return ""
}

// changeCounter is implemented by stores that can tell cheaply whether
// anything was committed since an earlier moment (SQLite's data_version).
type changeCounter interface {
	DataVersion(ctx context.Context) (int64, error)
}

// DataVersion returns the stores' current data version, which differs from
// an earlier one whenever anything a page shows was committed in between, by
// this process or another (a session's last-seen and a token's last use,
// which no page shows, leave it); ok is false when the store cannot tell, and then
// nothing may be kept on the strength of it. Pages rendered from the
// database alone are kept for as long as it stays the same.
func (s *Service) DataVersion(ctx context.Context) (version int64, ok bool) {
	counter, isCounter := s.Instances.(changeCounter)
	if !isCounter {
		return 0, false
	}
	version, err := counter.DataVersion(ctx)
	// Pages also show the newest version of each instance's image, which
	// the cloud says, not the database: a newer one seen makes a new version.
	return version ^ s.images.epoch.Load()<<48, err == nil
}
