package views

import (
	"strconv"
	"strings"
	"time"

	"github.com/instancehub/instancehub"
)

// commonZones are offered as suggestions; any IANA or Windows name works.
var commonZones = []string{"UTC", "Europe/London", "Europe/Berlin", "Europe/Paris", "America/New_York",
	"America/Chicago", "America/Los_Angeles", "Asia/Kolkata", "Asia/Tokyo", "Australia/Sydney",
	"Pacific Standard Time", "Eastern Standard Time", "W. Europe Standard Time"}

func orUTC(zone string) string {
	if zone == "" {
		return "UTC"
	}
	return zone
}

func dayChosen(r instancehub.ScheduleRequest, day string) bool {
	for _, d := range r.WeekDays {
		if strings.EqualFold(d, day) || strings.EqualFold(d, day[:3]) {
			return true
		}
	}
	return false
}

// errKey is the key of a field's message: the create form's are prefixed.
func errKey(f ScheduleForm, field string) string { return f.Prefix + field }

func scheduleURL(name string, id int64) string {
	return instanceURL(name) + "/schedules/" + strconv.FormatInt(id, 10)
}

func idleMinutes(inst *instancehub.Instance) string {
	if inst.IdleShutdown == 0 {
		return strconv.Itoa(int(instancehub.DefaultIdleShutdown / time.Minute))
	}
	return strconv.Itoa(int(inst.IdleShutdown / time.Minute))
}

// IdleMinutesText is a duration as the "Shut down after" field shows it.
func IdleMinutesText(d time.Duration) string { return strconv.Itoa(int(d / time.Minute)) }

// ScheduleRequestOf is the form of an existing schedule.
func ScheduleRequestOf(s *instancehub.Schedule) instancehub.ScheduleRequest {
	r := instancehub.ScheduleRequest{Action: string(s.Action), Kind: string(s.Kind), Cron: s.Cron,
		Times: strings.Join(s.TimesOfDay(), ", "), TimeZone: s.TimeZone}
	for _, d := range s.WeekDays {
		r.WeekDays = append(r.WeekDays, d.String())
	}
	return r
}

func now() time.Time { return time.Now() }
