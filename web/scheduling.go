package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/views"
	"github.com/labstack/echo/v5"
)

// parseSchedule reads one schedule's fields, each name starting with prefix.
func parseSchedule(c *echo.Context, prefix string) instancehub.ScheduleRequest {
	form, _ := c.FormValues()
	return instancehub.ScheduleRequest{
		Action:   c.FormValue(prefix + "action"),
		Kind:     c.FormValue(prefix + "kind"),
		Cron:     c.FormValue(prefix + "cron"),
		Times:    c.FormValue(prefix + "time"),
		WeekDays: form[prefix+"week_days"],
		TimeZone: c.FormValue(prefix + "time_zone"),
	}
}

// parseCreateSchedules reads the create form's schedules, and one more,
// blank, when "Add schedule" was pressed.
func parseCreateSchedules(c *echo.Context) []instancehub.ScheduleRequest {
	n, _ := strconv.Atoi(c.FormValue("schedule_count"))
	n = min(max(n, 0), instancehub.MaxSchedules)
	var out []instancehub.ScheduleRequest
	for i := range n {
		out = append(out, parseSchedule(c, fmt.Sprintf("schedule-%d-", i)))
	}
	if c.FormValue("add_schedule") != "" && n < instancehub.MaxSchedules {
		out = append(out, instancehub.ScheduleRequest{})
	}
	return out
}

// setIdleShutdown saves an instance's idle shutdown from its details page.
func (s *Server) setIdleShutdown(c *echo.Context) error {
	name := c.Param("name")
	err := s.service.SetIdleShutdown(c.Request().Context(), name, c.FormValue("idle_shutdown") != "", c.FormValue("idle_minutes"))
	return s.backToDetail(c, name, err, "Saved the idle shutdown of "+name+"; its idle clock starts again now.")
}

func (s *Server) addSchedule(c *echo.Context) error {
	name := c.Param("name")
	sch, err := s.service.AddSchedule(c.Request().Context(), name, parseSchedule(c, ""))
	if err == nil {
		return s.backToDetail(c, name, nil, fmt.Sprintf("Added schedule %d to %s: %s.", sch.ID, name, sch.Summary()))
	}
	if instancehub.ErrorCode(err) != instancehub.EINVALID {
		return err
	}
	detail, derr := s.service.InstanceDetail(c.Request().Context(), name)
	if derr != nil {
		return derr
	}
	form := views.ScheduleForm{Request: parseSchedule(c, ""), Errors: instancehub.ErrorFields(err)}
	return s.render(c, http.StatusUnprocessableEntity, "compute", views.DetailPageWith(detail, views.DetailForms{Schedule: form}))
}

func (s *Server) editSchedule(c *echo.Context) error {
	id, err := instancehub.ScheduleID(c.Param("id"))
	if err != nil {
		return err
	}
	inst, sch, err := s.service.Schedule(c.Request().Context(), c.Param("name"), id)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "compute", views.SchedulePage(inst, id, views.ScheduleForm{Request: views.ScheduleRequestOf(sch)}))
}

func (s *Server) updateSchedule(c *echo.Context) error {
	ctx, name := c.Request().Context(), c.Param("name")
	id, err := instancehub.ScheduleID(c.Param("id"))
	if err != nil {
		return err
	}
	req := parseSchedule(c, "")
	sch, err := s.service.UpdateSchedule(ctx, name, id, req)
	if instancehub.ErrorCode(err) == instancehub.EINVALID {
		inst, _, ferr := s.service.Schedule(ctx, name, id)
		if ferr != nil {
			return ferr
		}
		return s.render(c, http.StatusUnprocessableEntity, "compute", views.SchedulePage(inst, id, views.ScheduleForm{Request: req, Errors: instancehub.ErrorFields(err)}))
	} else if err != nil {
		return err
	}
	return s.backToDetail(c, name, nil, fmt.Sprintf("Saved schedule %d of %s: %s.", id, name, sch.Summary()))
}

func (s *Server) deleteSchedule(c *echo.Context) error {
	name := c.Param("name")
	id, err := instancehub.ScheduleID(c.Param("id"))
	if err != nil {
		return err
	}
	err = s.service.DeleteSchedule(c.Request().Context(), name, id)
	return s.backToDetail(c, name, err, fmt.Sprintf("Deleted schedule %d of %s.", id, name))
}

func (s *Server) keepRunning(c *echo.Context) error {
	name := c.Param("name")
	stop, err := s.service.KeepRunning(c.Request().Context(), name)
	if err != nil {
		return err
	}
	return s.backToDetail(c, name, nil, fmt.Sprintf("%s keeps running until %s; it then stops (%s).", name, stop.At.UTC().Format("Jan 2, 15:04 UTC"), stop.Reason))
}

// backToDetail sends the browser back to the details page with the
// outcome as a notice; field errors become a refusal notice too.
func (s *Server) backToDetail(c *echo.Context, name string, err error, success string) error {
	switch code := instancehub.ErrorCode(err); {
	case code == instancehub.EINVALID:
		msg := instancehub.ErrorMessage(err)
		if fields := instancehub.ErrorFields(err); len(fields) > 0 {
			var parts []string
			for _, v := range fields {
				parts = append(parts, v)
			}
			msg = strings.Join(parts, " ")
		}
		s.setNotice(c, "danger", msg)
	case err != nil:
		return err
	default:
		s.setNotice(c, "success", success)
	}
	return c.Redirect(http.StatusSeeOther, "/instances/"+name)
}

func (s *Server) settingsPage(c *echo.Context) error {
	return s.renderSettings(c, http.StatusOK, nil, views.ArchiveForm{})
}

// renderSettings renders the settings page with the workspace's defaults as
// stored, or as typed in p, and the archive form f with the archives made.
func (s *Server) renderSettings(c *echo.Context, status int, p *views.Settings, f views.ArchiveForm) error {
	ctx := c.Request().Context()
	if p == nil {
		w, err := s.service.WorkspaceSettingsToEdit(ctx)
		if err != nil {
			return err
		}
		p = &views.Settings{Workspace: w, Minutes: views.IdleMinutesText(w.IdleShutdown)}
	}
	archives, err := s.service.AuditArchives(ctx)
	if err != nil {
		return err
	}
	f.Archives, f.Latest = archives, s.service.LatestAuditCutoff()
	p.Archive = f
	p.Warning = s.service.ApplicationsWarning(ctx)
	return s.render(c, status, "settings", views.SettingsPage(*p))
}

func (s *Server) saveSettings(c *echo.Context) error {
	ctx := c.Request().Context()
	on, minutes := c.FormValue("idle_shutdown") != "", c.FormValue("idle_minutes")
	w, err := s.service.SaveWorkspaceSettings(ctx, on, minutes)
	if instancehub.ErrorCode(err) == instancehub.EINVALID {
		w.IdleShutdownOn = on
		return s.renderSettings(c, http.StatusUnprocessableEntity,
			&views.Settings{Workspace: w, Minutes: minutes, IdleError: instancehub.ErrorMessage(err)}, views.ArchiveForm{})
	} else if err != nil {
		return err
	}
	s.setNotice(c, "success", "Saved: new instances propose idle shutdown "+idleDefaultText(w)+".")
	return c.Redirect(http.StatusSeeOther, "/settings")
}

func idleDefaultText(w instancehub.WorkspaceSettings) string {
	if !w.IdleShutdownOn {
		return "off"
	}
	return "after " + instancehub.IdleText(w.IdleShutdown)
}
