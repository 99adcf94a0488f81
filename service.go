package instancehub

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// Service applies the product's rules: who may do what, what is valid, and
// what an action does to an instance; it writes the audit log. Handlers call
// it and nothing else, and every action is authorized here.
type Service struct {
	Instances InstanceStore
	Users     UserStore
	Sessions  SessionStore
	Tokens    TokenStore
	Roles     RoleStore
	Audit     AuditStore
	Throttle  LoginThrottle
	Quotas    QuotaStore
	// Automation keeps schedules, idle shutdown and the workspace's
	// defaults; nil in tests that need none of them.
	Automation AutomationStore
	Cloud      Cloud
	Engine     *Engine
	// Prices and RunningTimes, if set, give the cost estimates: the prices
	// of sizes, and the running time recorded of instances.
	Prices       PriceList
	RunningTimes RunningTimeStore
	// Applications, if set, also says which applications cannot run where
	// (the offline emulator's Jupyter servers run no JupyterLab).
	Applications ApplicationAvailability
	Logger       *slog.Logger
	// Probe, if set, asks a running instance's Jupyter how it is used.
	Probe ApplicationProbe
	// RoleMap maps values of the identity provider's groups claim to roles.
	RoleMap map[string]Role
	// UserAssignedIdentities are the resource IDs of the user-assigned
	// managed identities an instance may be given: an identity's rights are
	// anyone's who runs code on its VM, so only those an operator listed.
	UserAssignedIdentities []string
	// ArchiveDir is the folder archives of the audit log made in the
	// portal are written to, and downloaded from; ArchiveLimit is the most
	// events one archive moves, 0 for MaxAuditArchive.
	ArchiveDir   string
	ArchiveLimit int
	// Metrics, if set, is told of what the audit log records.
	Metrics ServiceMetrics
	Now     func() time.Time

	admission sync.Mutex // creates are admitted one at a time (quota)
	activity  throttle   // activity is written once a minute per instance
	// Wait pauses for d, or until ctx ends; nil waits on a timer. A slowed
	// sign-in waits with it, so that tests need not.
	Wait func(ctx context.Context, d time.Duration) error
}

// metrics returns Metrics, or what tells nobody.
func (s *Service) metrics() ServiceMetrics {
	if s.Metrics == nil {
		return noMetrics{}
	}
	return s.Metrics
}

func (s *Service) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.Default()
	}
	return s.Logger
}

// ListInstances returns a page of instances.
func (s *Service) ListInstances(ctx context.Context, q ListQuery) (*InstancePage, error) {
	user, err := authorize(ctx, PermReadInstances, "see compute instances")
	if err != nil {
		s.recordDenial(ctx, "instance.list", "", err)
		return nil, err
	}
	q.Sort = ParseInstanceSort(string(q.Sort))
	q.Search = prefix(strings.TrimSpace(q.Search), MaxSearchLength)
	if q.Page < 1 {
		q.Page = 1
	}
	filter := InstanceFilter{Search: q.Search, Sort: q.Sort, Offset: (q.Page - 1) * PageSize, Limit: PageSize}
	if q.OnlyMine {
		filter.OwnerID = user.ID
	}
	instances, total, err := s.Instances.FindInstances(ctx, filter)
	if err != nil {
		return nil, err
	}
	for _, inst := range instances {
		inst.Access = access(user, inst)
	}
	if err := s.setAutoStops(ctx, instances); err != nil {
		return nil, err
	}
	return &InstancePage{Query: q, Instances: instances, Total: total, Pages: max(1, (total+PageSize-1)/PageSize)}, nil
}

// Instance returns one live instance.
func (s *Service) Instance(ctx context.Context, name string) (*Instance, error) {
	inst, err := s.liveInstance(ctx, name)
	if err != nil {
		return nil, err
	}
	if err := s.setAutoStops(ctx, []*Instance{inst}); err != nil {
		return nil, err
	}
	return inst, nil
}

// liveInstance returns one live instance the signed-in user may see, with
// their access to it.
func (s *Service) liveInstance(ctx context.Context, name string) (*Instance, error) {
	user, err := authorize(ctx, PermReadInstances, "see compute instances")
	if err != nil {
		s.recordDenial(ctx, "instance.read", name, err)
		return nil, err
	}
	inst, err := s.Instances.FindInstanceByName(ctx, name)
	if err != nil {
		return nil, err
	}
	inst.Access = access(user, inst)
	return inst, nil
}

// InstanceWithSchedules returns a live instance with its start/stop
// schedules, read once for both the schedules and the automatic stop due
// (what the details page and the API show of them).
func (s *Service) InstanceWithSchedules(ctx context.Context, name string) (*Instance, []*Schedule, error) {
	inst, err := s.liveInstance(ctx, name)
	if err != nil {
		return nil, nil, err
	}
	if s.Automation == nil {
		return inst, nil, nil
	}
	schedules, err := s.Automation.FindSchedules(ctx, inst.ID)
	if err != nil {
		return nil, nil, err
	}
	if inst.State == StateRunning {
		inst.AutoStop = NextAutoStop(inst, schedules, s.now())
	}
	return inst, schedules, nil
}

// InstanceDetail returns an instance with its operations, newest first.
func (s *Service) InstanceDetail(ctx context.Context, name string) (*InstanceDetail, error) {
	inst, schedules, err := s.InstanceWithSchedules(ctx, name)
	if err != nil {
		return nil, err
	}
	ops, err := s.Instances.FindOperations(ctx, inst.ID, HistoryLength)
	if err != nil {
		return nil, err
	}
	d := &InstanceDetail{Instance: inst, Operations: ops, StoppedBilling: s.StoppedBilling(inst), Schedules: schedules,
		Unavailable: map[string]string{}, Activity: s.lastActivity(ctx, inst), IdleStopAt: IdleStopAt(inst)}
	if d.Cost, err = s.instanceCost(ctx, inst); err != nil {
		return nil, err
	}
	for _, app := range Applications {
		if reason := s.ApplicationUnavailable(ctx, inst, app.Slug); reason != "" {
			d.Unavailable[app.Slug] = reason
		}
	}
	return d, nil
}

// Act starts a Start, Stop, Restart or Delete of the named instance.
func (s *Service) Act(ctx context.Context, name string, kind OperationKind) (inst *Instance, err error) {
	defer func() { s.record(ctx, "instance."+kind.Verb(), name, err) }()
	if kind == OpCreate {
		return nil, Errorf(EINVALID, "Use the create form to create an instance.")
	}
	if _, err := authorize(ctx, PermReadInstances, "see compute instances"); err != nil {
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
	op, err := s.Engine.Submit(ctx, inst, kind, TriggerUser)
	if err != nil {
		return nil, err
	}
	inst, err = s.Instances.FindInstanceByID(ctx, inst.ID)
	if err != nil {
		return nil, err
	}
	// The operation just begun, whatever began since.
	inst.Access, inst.LastOperation = access(user, inst), op
	return inst, nil
}

// InstanceForAction returns the named instance if the signed-in user may
// carry out kind on it, for pages that ask before acting (the delete
// confirmation).
func (s *Service) InstanceForAction(ctx context.Context, name string, kind OperationKind) (*Instance, error) {
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
func (s *Service) ActionLoss(ctx context.Context, name string, kind OperationKind) (*Instance, string, error) {
	inst, err := s.InstanceForAction(ctx, name, kind)
	if err != nil {
		return nil, "", err
	}
	switch kind {
	case OpStop, OpRestart, OpDelete:
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
func (s *Service) Refresh(ctx context.Context) (report SyncReport, err error) {
	if _, err := authorize(ctx, PermReadInstances, "refresh the list of compute instances"); err != nil {
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
	r, ok := s.Applications.(ApplicationRestarts)
	user := UserFromContext(ctx)
	app, found := FindApplication(slug)
	if !ok || user == nil || !found {
		return "", nil
	}
	inst, err := s.Instances.FindInstanceByName(ctx, name)
	if ErrorCode(err) == ENOTFOUND {
		return "", nil
	} else if err != nil {
		return "", err
	}
	if inst.OwnerID != user.ID || inst.State != StateRunning {
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
func (s *Service) OpenApplication(ctx context.Context, name, slug string) (inst *Instance, app Application, err error) {
	defer func() { s.recordDenial(ctx, "application.open", name+"/"+slug, err) }()
	user, err := authorize(ctx, PermReadInstances, "open applications")
	if err != nil {
		return nil, app, err
	}
	app, ok := FindApplication(slug)
	if !ok {
		return nil, app, Errorf(ENOTFOUND, "There is no application %q on compute instances.", Clip(slug, MaxResourceNameLength))
	}
	inst, err = s.Instances.FindInstanceByName(ctx, name)
	if err != nil {
		return nil, app, err
	}
	if inst.OwnerID != user.ID {
		return nil, app, Errorf(EFORBIDDEN, "Only the owner of %s, %s, may open its applications.", inst.Name, inst.OwnerName)
	}
	if inst.State != StateRunning {
		return inst, app, Errorf(ECONFLICT, "%s is %s; start it to open %s.", inst.Name, strings.ToLower(inst.State.Label()), app.Label)
	}
	if reason := s.ApplicationUnavailable(ctx, inst, app.Slug); reason != "" {
		return inst, app, Errorf(EUNAVAILABLE, "%s", reason)
	}
	return inst, app, nil
}

// ApplicationOpened audits that the signed-in user opened app of inst: the
// gateway calls it once the browser has signed in on the application's
// origin, with the ticket OpenApplication allowed. Requests to an open
// application are not audited one by one; refusals are, by
// OpenApplication.
func (s *Service) ApplicationOpened(ctx context.Context, inst *Instance, app Application) {
	s.record(ctx, "application.open", inst.Name+"/"+app.Slug, nil)
}

// ApplicationUnavailable says why the application of slug cannot work on
// inst, for the page to show instead of offering it; "" when it can.
func (s *Service) ApplicationUnavailable(ctx context.Context, inst *Instance, slug string) string {
	if s.Applications != nil {
		if reason := s.Applications.ApplicationUnavailable(ctx, inst, slug); reason != "" {
			return reason
		}
	}
	if c, ok := s.Cloud.(ApplicationAvailability); ok {
		return c.ApplicationUnavailable(ctx, inst, slug)
	}
	return ""
}

// StoppedBilling says, in a sentence for the page that offers Stop, what
// inst keeps costing while stopped; "" when the cloud does not say.
func (s *Service) StoppedBilling(inst *Instance) string {
	if c, ok := s.Cloud.(StoppedBilling); ok {
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
// an earlier one whenever anything was committed in between, by this
// process or another; ok is false when the store cannot tell, and then
// nothing may be kept on the strength of it. Pages rendered from the
// database alone are kept for as long as it stays the same.
func (s *Service) DataVersion(ctx context.Context) (version int64, ok bool) {
	counter, isCounter := s.Instances.(changeCounter)
	if !isCounter {
		return 0, false
	}
	version, err := counter.DataVersion(ctx)
	return version, err == nil
}
