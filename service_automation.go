package instancehub

import (
	"context"
	"fmt"
)

// WorkspaceSettings returns the workspace's defaults, for the create form
// and the settings page.
func (s *Service) WorkspaceSettings(ctx context.Context) (WorkspaceSettings, error) {
	if _, err := authorize(ctx, PermReadInstances, "see the workspace's defaults"); err != nil {
		return WorkspaceSettings{}, err
	}
	return s.workspaceSettings(ctx)
}

func (s *Service) workspaceSettings(ctx context.Context) (WorkspaceSettings, error) {
	if s.Automation == nil {
		return DefaultWorkspaceSettings, nil
	}
	return s.Automation.WorkspaceSettings(ctx)
}

// WorkspaceSettingsToEdit returns the workspace's defaults for the
// settings page. Owners only.
func (s *Service) WorkspaceSettingsToEdit(ctx context.Context) (WorkspaceSettings, error) {
	if _, err := authorize(ctx, PermWriteSettings, "change the workspace's defaults"); err != nil {
		s.recordDenial(ctx, "workspace.settingsForm", "", err)
		return WorkspaceSettings{}, err
	}
	return s.workspaceSettings(ctx)
}

// ApplicationsWarning tells Owners, on the Settings page, how applications
// run less safely than they should (Applications' ApplicationWarning);
// "" when they do not, and for anyone who may not change the workspace's
// settings.
func (s *Service) ApplicationsWarning(ctx context.Context) string {
	if _, err := authorize(ctx, PermWriteSettings, "change the workspace's defaults"); err != nil {
		return ""
	}
	if w, ok := s.Applications.(ApplicationWarning); ok {
		return w.ApplicationWarning()
	}
	return ""
}

// SaveWorkspaceSettings sets the workspace's idle shutdown default. Owners
// only.
func (s *Service) SaveWorkspaceSettings(ctx context.Context, on bool, minutes string) (w WorkspaceSettings, err error) {
	defer func() { s.record(ctx, "workspace.settings", "idle shutdown", err) }()
	if _, err := authorize(ctx, PermWriteSettings, "change the workspace's defaults"); err != nil {
		return w, err
	}
	w, err = s.workspaceSettings(ctx)
	if err != nil {
		return w, err
	}
	d, err := ParseIdleShutdown(true, minutes)
	if err != nil && on {
		return w, err
	} else if err == nil {
		w.IdleShutdown = d
	}
	w.IdleShutdownOn = on
	return w, s.Automation.SaveWorkspaceSettings(ctx, w)
}

// SetIdleShutdown turns an instance's idle shutdown on, after minutes, or
// off, for whoever may manage it. Any change restarts the idle clock.
func (s *Service) SetIdleShutdown(ctx context.Context, name string, on bool, minutes string) (err error) {
	defer func() { s.record(ctx, "instance.idleShutdown", name, err) }()
	inst, err := s.manageable(ctx, name, "change idle shutdown of")
	if err != nil {
		return err
	}
	d, err := ParseIdleShutdown(on, minutes)
	if err != nil {
		return err
	}
	return s.Automation.SetIdleShutdown(ctx, inst.ID, d, s.now())
}

// manageable returns the named instance if the user may manage it.
func (s *Service) manageable(ctx context.Context, name, verb string) (*Instance, error) {
	if _, err := authorize(ctx, PermReadInstances, "see compute instances"); err != nil {
		return nil, err
	}
	inst, err := s.Instances.FindInstanceByName(ctx, name)
	if err != nil {
		return nil, err
	}
	if _, err := authorizeChange(ctx, inst, verb); err != nil {
		return nil, err
	}
	return inst, nil
}

// AddSchedule adds a start/stop schedule to an instance. EINVALID with
// field messages; ECONFLICT past MaxSchedules.
func (s *Service) AddSchedule(ctx context.Context, name string, req ScheduleRequest) (sch *Schedule, err error) {
	defer func() { s.record(ctx, "instance.schedule.add", name, err) }()
	inst, err := s.manageable(ctx, name, "change the schedules of")
	if err != nil {
		return nil, err
	}
	if sch, err = ParseSchedule(req); err != nil {
		return nil, err
	}
	sch.InstanceID, sch.CreatedAt = inst.ID, s.now()
	return sch, s.Automation.AddSchedule(ctx, sch)
}

// UpdateSchedule changes a schedule of an instance. ENOTFOUND when the
// instance has no schedule id.
func (s *Service) UpdateSchedule(ctx context.Context, name string, id int64, req ScheduleRequest) (sch *Schedule, err error) {
	defer func() { s.record(ctx, "instance.schedule.edit", fmt.Sprintf("%s schedule %d", name, id), err) }()
	inst, err := s.manageable(ctx, name, "change the schedules of")
	if err != nil {
		return nil, err
	}
	if sch, err = ParseSchedule(req); err != nil {
		return nil, err
	}
	sch.ID, sch.InstanceID, sch.UpdatedAt = id, inst.ID, s.now()
	return sch, s.Automation.UpdateSchedule(ctx, sch)
}

// DeleteSchedule removes a schedule of an instance.
func (s *Service) DeleteSchedule(ctx context.Context, name string, id int64) (err error) {
	defer func() { s.record(ctx, "instance.schedule.delete", fmt.Sprintf("%s schedule %d", name, id), err) }()
	inst, err := s.manageable(ctx, name, "change the schedules of")
	if err != nil {
		return err
	}
	return s.Automation.DeleteSchedule(ctx, inst.ID, id)
}

// Schedule returns one schedule of an instance, for its edit form.
func (s *Service) Schedule(ctx context.Context, name string, id int64) (*Instance, *Schedule, error) {
	inst, err := s.manageable(ctx, name, "change the schedules of")
	if err != nil {
		return nil, nil, err
	}
	all, err := s.Automation.FindSchedules(ctx, inst.ID)
	if err != nil {
		return nil, nil, err
	}
	for _, sch := range all {
		if sch.ID == id {
			return inst, sch, nil
		}
	}
	return nil, nil, Errorf(ENOTFOUND, "%s has no schedule %d.", inst.Name, id)
}

// KeepRunning postpones the automatic stop announced for the named
// instance by KeepRunningFor, once. Only its owner may.
func (s *Service) KeepRunning(ctx context.Context, name string) (stop *AutoStop, err error) {
	defer func() { s.record(ctx, "instance.keepRunning", name, err) }()
	user, err := authorize(ctx, PermReadInstances, "see compute instances")
	if err != nil {
		return nil, err
	}
	inst, err := s.Instances.FindInstanceByName(ctx, name)
	if err != nil {
		return nil, err
	}
	if inst.OwnerID != user.ID {
		return nil, Errorf(EFORBIDDEN, "Only the owner of %s, %s, may keep it running.", inst.Name, inst.OwnerName)
	}
	if err := s.setAutoStops(ctx, []*Instance{inst}); err != nil {
		return nil, err
	}
	switch {
	case inst.AutoStop == nil:
		return nil, Errorf(ECONFLICT, "No automatic stop of %s is due within %s.", inst.Name, IdleText(NoticeBefore))
	case inst.AutoStop.Postponed:
		return nil, Errorf(ECONFLICT, "The stop of %s was postponed once already.", inst.Name)
	}
	until := inst.AutoStop.At.Add(KeepRunningFor)
	if err := s.Automation.KeepRunning(ctx, inst.ID, until); err != nil {
		return nil, err
	}
	return &AutoStop{At: until, Trigger: inst.AutoStop.Trigger, Reason: inst.AutoStop.Reason, Postponed: true}, nil
}

// setAutoStops sets, on each running instance, the automatic stop due
// within NoticeBefore, if any: the earliest of its idle shutdown and its
// stop schedules.
func (s *Service) setAutoStops(ctx context.Context, instances []*Instance) error {
	if s.Automation == nil {
		return nil
	}
	now := s.now()
	var ids []int64
	for _, inst := range instances {
		inst.AutoStop = nil
		if inst.State == StateRunning {
			ids = append(ids, inst.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	schedules, err := s.Automation.FindSchedules(ctx, ids...)
	if err != nil {
		return err
	}
	for _, inst := range instances {
		if inst.State == StateRunning {
			inst.AutoStop = NextAutoStop(inst, schedules, now)
		}
	}
	return nil
}

// TakeNotices returns, and forgets, what the portal kept to tell the
// signed-in user: a scheduled start that failed while they were away.
func (s *Service) TakeNotices(ctx context.Context) ([]string, error) {
	user := UserFromContext(ctx)
	if user == nil || s.Automation == nil {
		return nil, nil
	}
	return s.Automation.TakeUserNotices(ctx, user.ID)
}
