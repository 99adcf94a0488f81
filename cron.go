package instancehub

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"time"
)

// timeSet is the wall-clock times a schedule runs at: bit i of each field
// is set when value i matches. Cron expressions and weekly recurrences both
// come down to one.
type timeSet struct {
	minute, hour, dom, month, dow uint64
	// A cron expression restricting both the day of the month and of the
	// week runs on days matching either, as every cron does; a star in one
	// leaves the other alone.
	domStar, dowStar bool
}

// cronField is one field of a cron expression: its range and the names its
// values may also go by.
type cronField struct {
	name     string
	min, max int
	names    []string // names[i] is the value min+i
}

var cronFields = [5]cronField{
	{name: "minute", min: 0, max: 59},
	{name: "hour", min: 0, max: 23},
	{name: "day of the month", min: 1, max: 31},
	{name: "month", min: 1, max: 12, names: []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}},
	// 7 is Sunday too, as in most crons.
	{name: "day of the week", min: 0, max: 7, names: []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}},
}

// MaxCronLength bounds a cron expression.
const MaxCronLength = 100

// ParseCron reads a five-field cron expression — minute, hour, day of the
// month, month, day of the week — with *, lists, ranges, steps and the
// English names of months and days ("0 18 * * mon-fri"). EINVALID, with a
// message naming the field at fault, for anything else, and for an
// expression that can never run (30 February).
func ParseCron(expr string) (timeSet, error) {
	if len(expr) > MaxCronLength {
		return timeSet{}, cronError("A cron expression has at most %d characters.", MaxCronLength)
	}
	fields := strings.Fields(expr)
	if len(fields) != 5 {
		return timeSet{}, cronError("A cron expression has five fields — minute, hour, day of the month, month, day of the week — such as 0 18 * * 1-5; this one has %d.", len(fields))
	}
	var sets [5]uint64
	for i, f := range fields {
		set, err := cronFields[i].parse(f)
		if err != nil {
			return timeSet{}, err
		}
		sets[i] = set
	}
	if sets[4]&(1<<7) != 0 {
		sets[4] = sets[4]&^(1<<7) | 1
	}
	ts := timeSet{minute: sets[0], hour: sets[1], dom: sets[2], month: sets[3], dow: sets[4],
		domStar: strings.HasPrefix(fields[2], "*"), dowStar: strings.HasPrefix(fields[4], "*")}
	if !ts.everRuns() {
		return timeSet{}, cronError("%s never runs: no month has that day.", strings.Join(fields, " "))
	}
	return ts, nil
}

func cronError(format string, args ...any) error {
	return FieldError("cron", fmt.Sprintf(format, args...))
}

// parse reads one field: a comma-separated list of *, N, N-M, each with an
// optional /step.
func (f cronField) parse(s string) (uint64, error) {
	var set uint64
	for part := range strings.SplitSeq(s, ",") {
		lo, hi, step := f.min, f.max, 1
		rng, stepText, hasStep := strings.Cut(part, "/")
		if hasStep {
			n, err := strconv.Atoi(stepText)
			if err != nil || n < 1 || n > f.max {
				return 0, cronError("The %s field's step %q is not a number from 1 to %d.", f.name, clipCron(stepText), f.max)
			}
			step = n
		}
		switch {
		case rng == "*":
		case rng == "":
			return 0, cronError("The %s field has an empty part.", f.name)
		default:
			from, to, isRange := strings.Cut(rng, "-")
			var err error
			if lo, err = f.value(from); err != nil {
				return 0, err
			}
			hi = lo
			if isRange {
				if hi, err = f.value(to); err != nil {
					return 0, err
				}
				if hi < lo {
					return 0, cronError("The %s field's range %s runs backwards.", f.name, clipCron(rng))
				}
			} else if hasStep {
				hi = f.max // "5/15" means from 5 on
			}
		}
		for v := lo; v <= hi; v += step {
			set |= 1 << v
		}
	}
	return set, nil
}

// value reads a number or a name of the field.
func (f cronField) value(s string) (int, error) {
	for i, n := range f.names {
		if strings.EqualFold(s, n) {
			return f.min + i, nil
		}
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < f.min || v > f.max || strings.HasPrefix(s, "+") {
		return 0, cronError("The %s field's value %q is not a number from %d to %d.", f.name, clipCron(s), f.min, f.max)
	}
	return v, nil
}

func clipCron(s string) string { return Clip(s, 20) }

// daysIn is the most days each month can have (February of a leap year).
var daysIn = [13]int{0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}

// everRuns reports whether some month has a matching day: a day of the
// week always comes round, a day of the month only in months long enough.
func (ts timeSet) everRuns() bool {
	if !ts.dowStar && ts.dow != 0 && !ts.domStar {
		return true // either matches, and a weekday always comes
	}
	if !ts.domStar {
		for m := 1; m <= 12; m++ {
			if ts.month&(1<<m) != 0 && bits.TrailingZeros64(ts.dom) <= daysIn[m] {
				return true
			}
		}
		return false
	}
	return ts.dow != 0
}

// matchesDay reports whether the schedule runs on a date.
func (ts timeSet) matchesDay(month time.Month, day int, weekday time.Weekday) bool {
	if ts.month&(1<<month) == 0 {
		return false
	}
	domOK, dowOK := ts.dom&(1<<day) != 0, ts.dow&(1<<weekday) != 0
	switch {
	case ts.domStar && ts.dowStar:
		return true
	case ts.domStar:
		return dowOK
	case ts.dowStar:
		return domOK
	}
	return domOK || dowOK
}

// maxSearchDays bounds the search for the next run: every expression
// ParseCron accepts runs within eight years (29 February).
const maxSearchDays = 8 * 366

// next returns the first run strictly after t in loc, or the zero time if
// there is none. A wall-clock time that a daylight-saving change skips runs
// once, at the change; one it repeats runs once, the first time round.
func (ts timeSet) next(t time.Time, loc *time.Location) time.Time {
	local := t.In(loc)
	y, m, d := local.Date()
	for i := 0; i < maxSearchDays; i++ {
		day := time.Date(y, m, d+i, 12, 0, 0, 0, loc)
		if !ts.matchesDay(day.Month(), day.Day(), day.Weekday()) {
			continue
		}
		// A day's runs come in wall-clock order; their instants do too, but
		// for a skipped hour's, which all fall on the change: the first
		// instant after t is the answer either way.
		for h := range 24 {
			if ts.hour&(1<<h) == 0 {
				continue
			}
			for min := range 60 {
				if ts.minute&(1<<min) == 0 {
					continue
				}
				if at := wallTime(day.Year(), day.Month(), day.Day(), h, min, loc); at.After(t) {
					return at
				}
			}
		}
	}
	return time.Time{}
}

// wallTime is the first instant loc's clocks read y-m-d h:min, or, when a
// daylight-saving change skips that time, the instant of the change.
func wallTime(y int, m time.Month, d, h, min int, loc *time.Location) time.Time {
	at := time.Date(y, m, d, h, min, 0, 0, loc)
	if at.Hour() != h || at.Minute() != min {
		// Skipped: Go read it with one of the two offsets, landing after the
		// change (its clocks read later) or before it.
		start, end := at.ZoneBounds()
		if wallClock(at).After(time.Date(y, m, d, h, min, 0, 0, time.UTC)) {
			return start
		}
		return end
	}
	// Repeated: the same reading an offset's difference earlier, if the
	// clocks read it then too.
	start, _ := at.ZoneBounds()
	if !start.IsZero() {
		before := start.Add(-time.Nanosecond)
		if diff := offsetOf(before) - offsetOf(at); diff > 0 {
			if earlier := at.Add(-diff); earlier.Before(start) && earlier.Hour() == h && earlier.Minute() == min {
				return earlier
			}
		}
	}
	return at
}

// wallClock is what t's clocks read, as a UTC time, for comparing readings.
func wallClock(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
}

func offsetOf(t time.Time) time.Duration {
	_, off := t.Zone()
	return time.Duration(off) * time.Second
}
