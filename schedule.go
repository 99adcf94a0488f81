package instancehub

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// MaxSchedules is how many start/stop schedules an instance may have, as in
// the reference product.
const MaxSchedules = 4

// ScheduleKind is how a schedule says when it runs: the reference product's
// two trigger types.
type ScheduleKind string

// The kinds of schedule.
const (
	ScheduleRecurrence ScheduleKind = "Recurrence" // weekly, at times, on week days
	ScheduleCron       ScheduleKind = "Cron"       // a five-field cron expression
)

// Schedule starts or stops an instance at times of day on chosen days, in a
// time zone.
type Schedule struct {
	ID         int64
	InstanceID int64
	Action     OperationKind // OpStart or OpStop
	Kind       ScheduleKind
	// Cron is the expression of a Cron schedule.
	Cron string
	// Hours, Minutes and WeekDays are a Recurrence's: it runs at every hour
	// of Hours at every minute of Minutes, on WeekDays.
	Hours    []int
	Minutes  []int
	WeekDays []time.Weekday
	// TimeZone is the zone as its owner named it, IANA or Windows.
	TimeZone  string
	CreatedAt time.Time
	UpdatedAt time.Time
	// LastFired is the newest occurrence the schedule fired for (or skipped),
	// read from the record of firings; zero if none.
	LastFired time.Time

	times timeSet
	loc   *time.Location
}

// compile readies s to compute its occurrences. EINVALID with field
// messages when its times or zone are wrong.
func (s *Schedule) compile() error {
	loc, err := LoadTimeZone(s.TimeZone)
	if err != nil {
		return err
	}
	switch s.Kind {
	case ScheduleCron:
		s.times, err = ParseCron(s.Cron)
	case ScheduleRecurrence:
		s.times, err = recurrenceTimes(s.Hours, s.Minutes, s.WeekDays)
	default:
		err = FieldError("kind", "Choose a recurrence or a cron expression.")
	}
	s.loc = loc
	return err
}

// Next is the schedule's first occurrence strictly after t, or the zero
// time if it never runs again (or does not compile).
func (s *Schedule) Next(t time.Time) time.Time {
	if s.loc == nil && s.compile() != nil {
		return time.Time{}
	}
	return s.times.next(t, s.loc)
}

func recurrenceTimes(hours, minutes []int, days []time.Weekday) (timeSet, error) {
	ts := timeSet{month: 0x1ffe, dom: ^uint64(0), domStar: true}
	for _, h := range hours {
		if h < 0 || h > 23 {
			return ts, FieldError("time", fmt.Sprintf("%d is not an hour from 0 to 23.", h))
		}
		ts.hour |= 1 << h
	}
	for _, m := range minutes {
		if m < 0 || m > 59 {
			return ts, FieldError("time", fmt.Sprintf("%d is not a minute from 0 to 59.", m))
		}
		ts.minute |= 1 << m
	}
	for _, d := range days {
		if d < time.Sunday || d > time.Saturday {
			return ts, FieldError("week_days", "Choose days of the week.")
		}
		ts.dow |= 1 << d
	}
	switch {
	case ts.hour == 0 || ts.minute == 0:
		return ts, FieldError("time", "Give a time, such as 18:00.")
	case ts.dow == 0:
		return ts, FieldError("week_days", "Choose at least one day of the week.")
	}
	return ts, nil
}

// Summary describes when the schedule runs: "Stop at 18:00 on Mon–Fri
// (Europe/Berlin)".
func (s *Schedule) Summary() string {
	when := "cron " + s.Cron
	if s.Kind == ScheduleRecurrence {
		when = "at " + strings.Join(s.TimesOfDay(), ", ") + " on " + dayList(s.WeekDays)
	}
	return fmt.Sprintf("%s %s (%s)", s.Action, when, s.TimeZone)
}

// Label names the schedule where an operation or a notice names it.
func (s *Schedule) Label() string {
	return fmt.Sprintf("schedule %d: %s", s.ID, s.Summary())
}

// TimesOfDay lists a recurrence's times as "18:00".
func (s *Schedule) TimesOfDay() []string {
	var out []string
	for _, h := range sortedInts(s.Hours) {
		for _, m := range sortedInts(s.Minutes) {
			out = append(out, fmt.Sprintf("%02d:%02d", h, m))
		}
	}
	return out
}

func sortedInts(v []int) []int {
	v = slices.Clone(v)
	slices.Sort(v)
	return slices.Compact(v)
}

func dayList(days []time.Weekday) string {
	set := map[time.Weekday]bool{}
	for _, d := range days {
		set[d] = true
	}
	if len(set) == 7 {
		return "every day"
	}
	var names []string
	for _, d := range WeekDays {
		if set[d] {
			names = append(names, d.String()[:3])
		}
	}
	return strings.Join(names, ", ")
}

// WeekDays lists the days of the week from Monday, as forms offer them.
var WeekDays = []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday}

// ScheduleRequest is a schedule as a form submits it.
type ScheduleRequest struct {
	Action   string // "Start" or "Stop"
	Kind     string // "Recurrence" or "Cron"
	Cron     string
	Times    string   // a recurrence's times: "18:00", or "08:00, 18:00"
	WeekDays []string // "Monday", or "1" (0 is Sunday)
	TimeZone string
	// StartTime is az ml's trigger.start_time, as the file wrote it: when
	// the schedule begins to apply, in TimeZone unless it gives an offset.
	// The portal's schedules apply from when they are made, so a start
	// after that is refused (CheckStartTime), never dropped.
	StartTime string
}

// startTimeLayouts are the forms of a trigger's start_time: az ml's local
// date and time (2026-12-07T09:00:00, seconds optional) and RFC 3339.
var startTimeLayouts = []string{"2006-01-02T15:04:05", "2006-01-02T15:04", time.RFC3339}

// CheckStartTime refuses a schedule whose start_time is later than now:
// the portal cannot hold a schedule back until then, and a schedule that
// fired before its start would do what the file said not to. A start_time
// at or before now is the schedule applying already, as it does. The
// refusal is EINVALID on the field start_time.
func CheckStartTime(r ScheduleRequest, now time.Time) error {
	text := strings.TrimSpace(r.StartTime)
	if text == "" {
		return nil
	}
	zone := strings.TrimSpace(r.TimeZone)
	if zone == "" {
		zone = "UTC"
	}
	loc, err := LoadTimeZone(zone)
	if err != nil {
		return nil // the time zone's own refusal says what is wrong
	}
	var start time.Time
	for _, layout := range startTimeLayouts {
		if start, err = time.ParseInLocation(layout, text, loc); err == nil {
			break
		}
	}
	if err != nil {
		return FieldError("start_time", fmt.Sprintf("%q is not a date and time such as 2026-12-07T09:00:00.", Clip(text, 40)))
	}
	if start.After(now) {
		return FieldError("start_time", fmt.Sprintf("The schedule starts at %s, later than now: instancehub applies a schedule from when it is made and cannot hold it back until then. Leave start_time out, or apply the file at that time.",
			start.In(loc).Format("2006-01-02 15:04 MST")))
	}
	return nil
}

// Blank reports whether nothing was chosen: a form's empty schedule, which
// is ignored.
func (r ScheduleRequest) Blank() bool {
	return r.Action == "" && strings.TrimSpace(r.Cron) == "" && strings.TrimSpace(r.Times) == "" && len(r.WeekDays) == 0
}

// ParseSchedule validates r into a schedule. EINVALID with a message per
// field (action, kind, cron, time, week_days, time_zone).
func ParseSchedule(r ScheduleRequest) (*Schedule, error) {
	s := &Schedule{Kind: ScheduleKind(r.Kind), Cron: strings.Join(strings.Fields(r.Cron), " "), TimeZone: strings.TrimSpace(r.TimeZone)}
	fields := map[string]string{}
	switch {
	case strings.EqualFold(r.Action, "start"):
		s.Action = OpStart
	case strings.EqualFold(r.Action, "stop"):
		s.Action = OpStop
	default:
		fields["action"] = "Choose whether the schedule starts or stops the instance."
	}
	if strings.EqualFold(r.Kind, string(ScheduleCron)) {
		s.Kind = ScheduleCron
	} else {
		s.Kind = ScheduleRecurrence
		s.Cron = ""
		var err error
		if s.Hours, s.Minutes, err = parseTimes(r.Times); err != nil {
			fields["time"] = ErrorMessage(err)
		}
		if s.WeekDays, err = parseWeekDays(r.WeekDays); err != nil {
			fields["week_days"] = ErrorMessage(err)
		}
	}
	if len(fields) == 0 || fields["time"] == "" && fields["week_days"] == "" {
		if err := s.compile(); err != nil {
			for k, v := range ErrorFields(err) {
				fields[k] = v
			}
		}
	} else if _, err := LoadTimeZone(s.TimeZone); err != nil {
		fields["time_zone"] = ErrorMessage(err)
	}
	if len(fields) > 0 {
		return nil, &Error{Code: EINVALID, Message: "The schedule needs your attention.", Fields: fields}
	}
	return s, nil
}

// parseTimes reads "18:00" or "08:00, 18:30": a recurrence runs at every
// hour given at every minute given, so the times must be all of those.
func parseTimes(text string) (hours, minutes []int, err error) {
	if len(text) > MaxCronLength {
		return nil, nil, Errorf(EINVALID, "Give at most a few times, such as 08:00, 18:00.")
	}
	var n int
	for part := range strings.SplitSeq(text, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		hText, mText, ok := strings.Cut(part, ":")
		h, herr := strconv.Atoi(hText)
		m, merr := strconv.Atoi(mText)
		if !ok || herr != nil || merr != nil || h < 0 || h > 23 || m < 0 || m > 59 || len(mText) != 2 {
			return nil, nil, Errorf(EINVALID, "%q is not a time of day such as 18:00.", Clip(part, 20))
		}
		hours, minutes, n = append(hours, h), append(minutes, m), n+1
	}
	hours, minutes = sortedInts(hours), sortedInts(minutes)
	switch {
	case n == 0:
		return nil, nil, Errorf(EINVALID, "Give a time, such as 18:00.")
	case len(hours)*len(minutes) != n:
		return nil, nil, Errorf(EINVALID, "A recurrence runs at each of its hours at each of its minutes (08:00, 08:30, 18:00, 18:30); for other times use a cron expression or another schedule.")
	}
	return hours, minutes, nil
}

func parseWeekDays(values []string) ([]time.Weekday, error) {
	var days []time.Weekday
	for _, v := range values {
		d, ok := parseWeekDay(strings.TrimSpace(v))
		if !ok {
			return nil, Errorf(EINVALID, "%q is not a day of the week.", Clip(v, 20))
		}
		if !slices.Contains(days, d) {
			days = append(days, d)
		}
	}
	if len(days) == 0 {
		return nil, Errorf(EINVALID, "Choose at least one day of the week.")
	}
	slices.Sort(days)
	return days, nil
}

func parseWeekDay(s string) (time.Weekday, bool) {
	if n, err := strconv.Atoi(s); err == nil && n >= 0 && n <= 6 {
		return time.Weekday(n), true
	}
	for d := time.Sunday; d <= time.Saturday; d++ {
		if strings.EqualFold(s, d.String()) || len(s) == 3 && strings.EqualFold(s, d.String()[:3]) {
			return d, true
		}
	}
	return 0, false
}

// Firing is one occurrence of a schedule, recorded so that it fires once:
// across restarts, and across portals sharing a database.
type Firing struct {
	ScheduleID int64
	Occurrence time.Time // the time it was due, as the schedule computes it
	FiredAt    time.Time
	Result     string // FiringClaimed, then FiringStarted, FiringSkipped or FiringFailed
	Reason     string // why it was skipped or failed
}

// The results of a firing.
const (
	FiringClaimed = "claimed" // recorded, its operation not yet submitted
	FiringStarted = "started" // its operation began
	FiringSkipped = "skipped" // the state did not allow the action
	FiringFailed  = "failed"  // the action was refused (quota)
)

// ScheduleID reads a schedule's ID from a URL. ENOTFOUND when it is none.
func ScheduleID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, Errorf(ENOTFOUND, "There is no such schedule.")
	}
	return id, nil
}

// MissedGrace is how late a schedule may still fire: a portal that was down
// at the time fires it on start when it is less late than this, and
// otherwise waits for the next time.
const MissedGrace = 15 * time.Minute

// DueOccurrence is the occurrence of sch to fire now, if any: the first
// after its last firing, its last change and the grace period, unless it
// is later than now. A stop its owner postponed is held until then, and
// fires then although past the grace period.
func DueOccurrence(sch *Schedule, keep time.Time, now time.Time) (time.Time, bool) {
	from := latest(now.Add(-MissedGrace), sch.UpdatedAt, sch.LastFired)
	if sch.Action == OpStop && !keep.IsZero() {
		if now.Before(keep) {
			if occ := sch.Next(from); !occ.IsZero() && !occ.After(keep) {
				return time.Time{}, false
			}
		} else if now.Before(keep.Add(MissedGrace)) {
			from = latest(keep.Add(-KeepRunningFor-time.Millisecond), sch.UpdatedAt, sch.LastFired)
		}
	}
	occ := sch.Next(from)
	return occ, !occ.IsZero() && !occ.After(now)
}

func latest(t time.Time, others ...time.Time) time.Time {
	for _, o := range others {
		if o.After(t) {
			t = o
		}
	}
	return t
}
