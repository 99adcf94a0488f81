package amlyaml

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/instancehub/instancehub"
	"go.yaml.in/yaml/v3"
)

var (
	schedulesKeys = keySet{read: []string{"compute_start_stop"}}
	startStopKeys = keySet{read: []string{"action", "state", "trigger"}, shown: []string{"schedule_id", "provisioning_state"}}
	// triggerKeys are both kinds' keys; trigger checks which go with which.
	triggerKeys    = keySet{read: []string{"type", "expression", "start_time", "time_zone", "frequency", "interval", "schedule"}}
	recurrenceKeys = keySet{read: []string{"hours", "minutes", "week_days"}}
	cronOnly       = []string{"expression"}
	recurrenceOnly = []string{"frequency", "interval", "schedule"}
)

// unsupportedFrequency says why a recurrence's frequency other than day or
// week is refused.
const unsupportedFrequency = "a recurrence runs every day or every week; use a cron expression for other times."

// schedules reads schedules.compute_start_stop.
func (d *decoder) schedules(path string, n *yaml.Node) []instancehub.ScheduleRequest {
	v := d.mapping(path, n, schedulesKeys)
	listPath := join(path, "compute_start_stop")
	var out []instancehub.ScheduleRequest
	for i, item := range d.list(listPath, v["compute_start_stop"], instancehub.MaxSchedules, "schedules") {
		if r, ok := d.schedule(index(listPath, i), item); ok {
			out = append(out, r)
		}
	}
	return out
}

// schedule reads one start or stop schedule.
func (d *decoder) schedule(path string, n *yaml.Node) (instancehub.ScheduleRequest, bool) {
	var r instancehub.ScheduleRequest
	v := d.mapping(path, n, startStopKeys)
	if v == nil {
		if null(n) {
			d.at(path, n, "a schedule must be a mapping of action and trigger, not empty")
		}
		return r, false
	}
	actionOK := d.action(path, n, v["action"], &r)
	stateOK := d.state(join(path, "state"), v["state"])
	if blank(v["trigger"]) {
		d.at(join(path, "trigger"), pos(v["trigger"], n), "trigger is required: when the schedule runs, a cron or a recurrence")
		return r, false
	}
	return r, d.trigger(join(path, "trigger"), v["trigger"], &r) && actionOK && stateOK
}

// state must be enabled, its default: the portal keeps no disabled
// schedules.
func (d *decoder) state(path string, n *yaml.Node) bool {
	state, ok := d.str(path, n)
	switch {
	case !ok:
		return blank(n)
	case strings.EqualFold(state, "disabled"):
		d.at(path, n, "state: disabled is not supported by instancehub: the portal keeps no disabled schedules; leave the schedule out.")
		return false
	case !strings.EqualFold(state, "enabled"):
		d.at(path, n, "state must be enabled, not %q", clip(state))
		return false
	}
	return true
}

func (d *decoder) action(path string, n, action *yaml.Node, r *instancehub.ScheduleRequest) bool {
	a, ok := d.str(join(path, "action"), action)
	switch {
	case ok && strings.EqualFold(a, "start"):
		r.Action = string(instancehub.OpStart)
	case ok && strings.EqualFold(a, "stop"):
		r.Action = string(instancehub.OpStop)
	case ok:
		d.at(join(path, "action"), action, "action must be start or stop, not %q", clip(a))
		return false
	case blank(action):
		d.at(join(path, "action"), pos(action, n), "action is required: start or stop")
		return false
	default:
		return false
	}
	return true
}

// trigger reads a cron or recurrence trigger into r.
func (d *decoder) trigger(path string, n *yaml.Node, r *instancehub.ScheduleRequest) bool {
	v := d.mapping(path, n, triggerKeys)
	if v == nil {
		return false
	}
	// start_time is when a schedule begins to apply (the reference prints
	// the time it was made); the service refuses one later than now, as
	// the portal's schedules apply at once.
	if st := v["start_time"]; !null(st) && d.kind(join(path, "start_time"), st, yaml.ScalarNode, "a date and time") {
		r.StartTime = st.Value
	}
	r.TimeZone = "UTC"
	if zone, ok := d.str(join(path, "time_zone"), v["time_zone"]); ok {
		r.TimeZone = zone
	}
	t, ok := d.str(join(path, "type"), v["type"])
	switch {
	case ok && strings.EqualFold(t, "cron"):
		d.foreign(path, v, recurrenceOnly, "a cron trigger")
		return d.cron(path, n, v["expression"], r)
	case ok && strings.EqualFold(t, "recurrence"):
		d.foreign(path, v, cronOnly, "a recurrence trigger")
		return d.recurrence(path, n, v, r)
	case ok:
		d.at(join(path, "type"), v["type"], "type must be cron or recurrence, not %q", clip(t))
	case blank(v["type"]):
		d.at(join(path, "type"), pos(v["type"], n), "type is required: cron or recurrence")
	}
	return false
}

// foreign reports keys of the other kind of trigger.
func (d *decoder) foreign(path string, v map[string]*yaml.Node, keys []string, what string) {
	for _, k := range keys {
		if n, ok := v[k]; ok {
			d.at(join(path, k), n, "%s has no %s", what, k)
		}
	}
}

func (d *decoder) cron(path string, n, expression *yaml.Node, r *instancehub.ScheduleRequest) bool {
	e, ok := d.str(join(path, "expression"), expression)
	if !ok {
		if blank(expression) {
			d.at(join(path, "expression"), pos(expression, n), "expression is required: a cron expression such as 0 18 * * 1-5")
		}
		return false
	}
	r.Kind, r.Cron = string(instancehub.ScheduleCron), e
	return true
}

// recurrence reads a daily or weekly recurrence: it runs at every hour of
// hours at every minute of minutes, the portal's Times.
func (d *decoder) recurrence(path string, n *yaml.Node, v map[string]*yaml.Node, r *instancehub.ScheduleRequest) bool {
	ok := d.interval(join(path, "interval"), v["interval"])
	freq, freqOK := d.str(join(path, "frequency"), v["frequency"])
	switch {
	case freqOK && (strings.EqualFold(freq, "day") || strings.EqualFold(freq, "week")):
	case freqOK && slices.ContainsFunc([]string{"minute", "hour", "month"}, func(f string) bool { return strings.EqualFold(freq, f) }):
		d.at(join(path, "frequency"), v["frequency"], "frequency: %s is not supported by instancehub: %s", strings.ToLower(freq), unsupportedFrequency)
		ok = false
	case freqOK:
		d.at(join(path, "frequency"), v["frequency"], "frequency must be day or week, not %q", clip(freq))
		ok = false
	case blank(v["frequency"]):
		d.at(join(path, "frequency"), pos(v["frequency"], n), "frequency is required: day or week")
		ok = false
	default:
		ok = false
	}
	ok = ok && freqOK
	schedPath := join(path, "schedule")
	s := d.mapping(schedPath, v["schedule"], recurrenceKeys)
	if s == nil {
		if null(v["schedule"]) {
			d.at(schedPath, pos(v["schedule"], n), "schedule is required: the hours, minutes and week_days the recurrence runs at")
		}
		return false
	}
	hours, hoursOK := d.clock(join(schedPath, "hours"), v["schedule"], s["hours"], 23, "hours")
	minutes, minutesOK := d.clock(join(schedPath, "minutes"), v["schedule"], s["minutes"], 59, "minutes")
	if !ok {
		// Which days go with a frequency that is wrong is not known.
		return false
	}
	days, daysOK := d.weekDays(join(schedPath, "week_days"), v["schedule"], s["week_days"], strings.EqualFold(freq, "day"))
	if !hoursOK || !minutesOK || !daysOK {
		return false
	}
	r.Kind, r.Times, r.WeekDays = string(instancehub.ScheduleRecurrence), times(hours, minutes), days
	return true
}

// interval must be 1, its default: every day or every week.
func (d *decoder) interval(path string, n *yaml.Node) bool {
	i, ok := d.integer(path, n)
	switch {
	case !ok:
		return null(n)
	case i != 1:
		d.at(path, n, "interval: %d is not supported by instancehub: %s", i, unsupportedFrequency)
		return false
	}
	return true
}

// clock reads the hours or the minutes of a recurrence, from 0 to top,
// sorted without repeats.
func (d *decoder) clock(path string, parent, n *yaml.Node, top int64, what string) ([]int, bool) {
	if null(n) {
		d.at(path, pos(n, parent), "%s is required: a list such as [%d]", what, top/2)
		return nil, false
	}
	items := d.list(path, n, int(top)+1, what)
	if items == nil {
		if n.Kind == yaml.SequenceNode && len(n.Content) == 0 {
			d.at(path, n, "%s needs at least one value", what)
		}
		return nil, false
	}
	var out []int
	ok := true
	for i, item := range items {
		v, isInt := d.integer(index(path, i), item)
		switch {
		case !isInt:
			ok = false
		case v < 0 || v > top:
			d.at(index(path, i), item, "%d is not one of the %s, from 0 to %d", v, what, top)
			ok = false
		default:
			out = append(out, int(v))
		}
	}
	slices.Sort(out)
	return slices.Compact(out), ok
}

// weekDays reads week_days: a weekly recurrence's days, from Monday as
// the portal lists them; a daily one runs on all of them.
func (d *decoder) weekDays(path string, parent, n *yaml.Node, daily bool) ([]string, bool) {
	switch {
	case daily && !empty(n):
		d.at(path, n, "week_days goes with frequency: week; a daily recurrence runs every day")
		return nil, false
	case daily:
		return dayNames(instancehub.WeekDays), true
	case null(n):
		d.at(path, pos(n, parent), "week_days is required with frequency: week: a list such as [monday, friday]")
		return nil, false
	}
	items := d.list(path, n, 7, "days")
	if len(items) == 0 {
		if n.Kind == yaml.SequenceNode {
			d.at(path, n, "week_days needs at least one day")
		}
		return nil, false
	}
	set := map[time.Weekday]bool{}
	ok := true
	for i, item := range items {
		name, isStr := d.str(index(path, i), item)
		day, known := weekDay(name)
		switch {
		case !isStr:
			ok = false
		case !known:
			d.at(index(path, i), item, "%q is not a day of the week: monday, tuesday, …, sunday", clip(name))
			ok = false
		}
		if known {
			set[day] = true
		}
	}
	var days []time.Weekday
	for _, day := range instancehub.WeekDays {
		if set[day] {
			days = append(days, day)
		}
	}
	return dayNames(days), ok
}

func weekDay(name string) (time.Weekday, bool) {
	for _, d := range instancehub.WeekDays {
		if strings.EqualFold(name, d.String()) {
			return d, true
		}
	}
	return 0, false
}

func dayNames(days []time.Weekday) []string {
	names := make([]string, len(days))
	for i, d := range days {
		names[i] = d.String()
	}
	return names
}

// times writes a recurrence's hours and minutes as the portal's Times:
// "08:00, 08:30, 18:00, 18:30".
func times(hours, minutes []int) string {
	var out []string
	for _, h := range hours {
		for _, m := range minutes {
			out = append(out, fmt.Sprintf("%02d:%02d", h, m))
		}
	}
	return strings.Join(out, ", ")
}
