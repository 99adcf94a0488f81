package service

import (
	"context"
	"fmt"

	"github.com/instancehub/instancehub"
)

// WorkspaceSettings returns the workspace's defaults, for the create form
// and the settings page.
func (s *Service) WorkspaceSettings(ctx context.Context) (instancehub.WorkspaceSettings, error) {
	if _, err := authorize(ctx, instancehub.PermReadInstances, "see the workspace's defaults"); err != nil {
		return instancehub.WorkspaceSettings{}, err
	}
	return s.workspaceSettings(ctx)
}

func (s *Service) workspaceSettings(ctx context.Context) (instancehub.WorkspaceSettings, error) {
	return s.Automation.WorkspaceSettings(ctx)
}

// WorkspaceSettingsToEdit returns the workspace's defaults for the
// settings page. Owners only.
func (s *Service) WorkspaceSettingsToEdit(ctx context.Context) (instancehub.WorkspaceSettings, error) {
	if _, err := authorize(ctx, instancehub.PermWriteSettings, "change the workspace's defaults"); err != nil {
		s.recordDenial(ctx, "workspace.settingsForm", "", err)
		return instancehub.WorkspaceSettings{}, err
	}
	return s.workspaceSettings(ctx)
}

// ApplicationsWarning tells Owners, on the Settings page, how applications
// run less safely than they should (Applications' ApplicationWarning);
// "" when they do not, and for anyone who may not change the workspace's
// settings.
func (s *Service) ApplicationsWarning(ctx context.Context) string {
	if _, err := authorize(ctx, instancehub.PermWriteSettings, "change the workspace's defaults"); err != nil {
		return ""
	}
	if w, ok := s.Applications.(instancehub.ApplicationWarning); ok {
		return w.ApplicationWarning()
	}
	return ""
}

// SaveWorkspaceSettings sets the workspace's idle shutdown default. Owners
// only.
func (s *Service) SaveWorkspaceSettings(ctx context.Context, on bool, minutes string) (w instancehub.WorkspaceSettings, err error) {
	defer func() { s.record(ctx, "workspace.settings", "idle shutdown", err) }()
	if _, err := authorize(ctx, instancehub.PermWriteSettings, "change the workspace's defaults"); err != nil {
		return w, err
	}
	w, err = s.workspaceSettings(ctx)
	if err != nil {
		return w, err
	}
	d, err := instancehub.ParseIdleShutdown(true, minutes)
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
	d, err := instancehub.ParseIdleShutdown(on, minutes)
	if err != nil {
		return err
	}
	return s.Automation.SetIdleShutdown(ctx, inst.ID, d, s.now())
}

// manageable returns the named instance if the user may manage it.
func (s *Service) manageable(ctx context.Context, name, verb string) (*instancehub.Instance, error) {
	if _, err := authorize(ctx, instancehub.PermReadInstances, "see compute instances"); err != nil {
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
func (s *Service) AddSchedule(ctx context.Context, name string, req instancehub.ScheduleRequest) (sch *instancehub.Schedule, err error) {
	defer func() { s.record(ctx, "instance.schedule.add", name, err) }()
	inst, err := s.manageable(ctx, name, "change the schedules of")
	if err != nil {
		return nil, err
	}
	if sch, err = instancehub.ParseSchedule(req); err != nil {
		return nil, err
	}
	sch.InstanceID, sch.CreatedAt = inst.ID, s.now()
	return sch, s.Automation.AddSchedule(ctx, sch)
}

// UpdateSchedule changes a schedule of an instance. ENOTFOUND when the
// instance has no schedule id.
func (s *Service) UpdateSchedule(ctx context.Context, name string, id int64, req instancehub.ScheduleRequest) (sch *instancehub.Schedule, err error) {
	defer func() { s.record(ctx, "instance.schedule.edit", fmt.Sprintf("%s schedule %d", name, id), err) }()
	inst, err := s.manageable(ctx, name, "change the schedules of")
	if err != nil {
		return nil, err
	}
	if sch, err = instancehub.ParseSchedule(req); err != nil {
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
func (s *Service) Schedule(ctx context.Context, name string, id int64) (*instancehub.Instance, *instancehub.Schedule, error) {
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
	return nil, nil, instancehub.Errorf(instancehub.ENOTFOUND, "%s has no schedule %d.", inst.Name, id)
}

// KeepRunning postpones the automatic stop announced for the named
// instance by KeepRunningFor, once. Only its owner may.
func (s *Service) KeepRunning(ctx context.Context, name string) (stop *instancehub.AutoStop, err error) {
	defer func() { s.record(ctx, "instance.keepRunning", name, err) }()
	user, err := authorize(ctx, instancehub.PermReadInstances, "see compute instances")
	if err != nil {
		return nil, err
	}
	inst, err := s.Instances.FindInstanceByName(ctx, name)
	if err != nil {
		return nil, err
	}
	if inst.OwnerID != user.ID {
		return nil, instancehub.Errorf(instancehub.EFORBIDDEN, "Only the owner of %s, %s, may keep it running.", inst.Name, inst.OwnerName)
	}
	if err := s.setAutoStops(ctx, []*instancehub.Instance{inst}); err != nil {
		return nil, err
	}
	switch {
	case inst.AutoStop == nil:
		return nil, instancehub.Errorf(instancehub.ECONFLICT, "No automatic stop of %s is due within %s.", inst.Name, instancehub.IdleText(instancehub.NoticeBefore))
	case inst.AutoStop.Postponed:
		return nil, instancehub.Errorf(instancehub.ECONFLICT, "The stop of %s was postponed once already.", inst.Name)
	}
	until := inst.AutoStop.At.Add(instancehub.KeepRunningFor)
	if err := s.Automation.KeepRunning(ctx, inst.ID, until); err != nil {
		return nil, err
	}
	return &instancehub.AutoStop{At: until, Trigger: inst.AutoStop.Trigger, Source: inst.AutoStop.Source, Reason: inst.AutoStop.Reason, Postponed: true}, nil
}

// setAutoStops sets, on each running instance, its next automatic stop
// (the earliest of its idle shutdown and its stop schedules) and, if that
// is due within NoticeBefore, its notice.
func (s *Service) setAutoStops(ctx context.Context, instances []*instancehub.Instance) error {
	now := s.now()
	var ids []int64
	for _, inst := range instances {
		inst.AutoStop, inst.NextStop = nil, nil
		if inst.State == instancehub.StateRunning {
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
		if inst.State == instancehub.StateRunning {
			inst.NextStop = instancehub.NextStop(inst, schedules, now)
			inst.AutoStop = inst.NextStop.Notice(now)
		}
	}
	return nil
}

// TakeNotices returns, and forgets, what the portal kept to tell the
// signed-in user: a scheduled start that failed while they were away.
func (s *Service) TakeNotices(ctx context.Context) ([]string, error) {
	user := instancehub.UserFromContext(ctx)
	if user == nil {
		return nil, nil
	}
	return s.Automation.TakeUserNotices(ctx, user.ID)
}
