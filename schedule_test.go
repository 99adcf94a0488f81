package instancehub

import (
	"strings"
	"testing"
	"time"
)

func mustSchedule(t *testing.T, r ScheduleRequest) *Schedule {
	t.Helper()
	s, err := ParseSchedule(r)
	if err != nil {
		t.Fatalf("ParseSchedule(%+v): %v %v", r, err, ErrorFields(err))
	}
	return s
}

func at(t *testing.T, zone, wall string) time.Time {
	t.Helper()
	loc, err := LoadTimeZone(zone)
	if err != nil {
		t.Fatal(err)
	}
	v, err := time.ParseInLocation("2006-01-02 15:04", wall, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestCronNext(t *testing.T) {
	for _, c := range []struct {
		expr, zone, after string
		want              []string // successive runs, in UTC
	}{
		{"0 18 * * 1-5", "Europe/Berlin", "2026-11-27 17:59", []string{"2026-11-27T17:00:00Z", "2026-11-30T17:00:00Z"}}, // Friday, then Monday
		{"*/20 9 * * *", "UTC", "2026-01-01 09:30", []string{"2026-01-01T09:40:00Z", "2026-01-02T09:00:00Z", "2026-01-02T09:20:00Z"}},
		{"0 0 29 2 *", "UTC", "2026-03-01 00:00", []string{"2028-02-29T00:00:00Z"}},
		{"0 12 1 * mon", "UTC", "2026-06-01 12:00", []string{"2026-06-08T12:00:00Z", "2026-06-15T12:00:00Z"}}, // 1st or Monday
		{"30 8 * jan,jul sun", "UTC", "2026-06-30 00:00", []string{"2026-07-05T08:30:00Z"}},
		{"0 0 * * 7", "UTC", "2026-06-30 00:00", []string{"2026-07-05T00:00:00Z"}}, // 7 is Sunday
	} {
		s := mustSchedule(t, ScheduleRequest{Action: "Stop", Kind: "Cron", Cron: c.expr, TimeZone: c.zone})
		after := at(t, c.zone, c.after)
		for _, want := range c.want {
			got := s.Next(after)
			if got.UTC().Format(time.RFC3339) != want {
				t.Errorf("%q after %s: %s, want %s", c.expr, after.UTC().Format(time.RFC3339), got.UTC().Format(time.RFC3339), want)
				break
			}
			after = got
		}
	}
}

// A 02:30 schedule runs once, at the change, on the day that skips 02:30,
// and once, the first time round, on the day that repeats it; in both
// directions, in zones east and west.
func TestScheduleAcrossDaylightSaving(t *testing.T) {
	for _, c := range []struct {
		zone, day string
		want      []string
	}{
		// Berlin springs forward at 02:00 → 03:00 on 29 March 2026.
		{"Europe/Berlin", "2026-03-28", []string{"2026-03-28T01:30:00Z", "2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"}},
		// Berlin falls back at 03:00 → 02:00 on 25 October 2026: 02:30 CEST.
		{"W. Europe Standard Time", "2026-10-24", []string{"2026-10-24T00:30:00Z", "2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"}},
		// Los Angeles: 8 March 2026 skips 02:00–03:00, 1 November repeats 01:00–02:00.
		{"Pacific Standard Time", "2026-03-07", []string{"2026-03-07T10:30:00Z", "2026-03-08T10:00:00Z", "2026-03-09T09:30:00Z"}},
	} {
		s := mustSchedule(t, ScheduleRequest{Action: "Stop", Times: "02:30", WeekDays: []string{"0", "1", "2", "3", "4", "5", "6"}, TimeZone: c.zone})
		after := at(t, c.zone, c.day+" 00:00")
		for _, want := range c.want {
			got := s.Next(after)
			if got.UTC().Format(time.RFC3339) != want {
				t.Errorf("%s: after %s got %s, want %s", c.zone, after.UTC().Format(time.RFC3339), got.UTC().Format(time.RFC3339), want)
				break
			}
			after = got
		}
	}
	// The hour Los Angeles repeats: a 01:30 schedule runs at 01:30 PDT only.
	s := mustSchedule(t, ScheduleRequest{Action: "Start", Kind: "Cron", Cron: "30 1 * * *", TimeZone: "America/Los_Angeles"})
	first := s.Next(at(t, "America/Los_Angeles", "2026-11-01 00:00"))
	if got := first.UTC().Format(time.RFC3339); got != "2026-11-01T08:30:00Z" {
		t.Errorf("first 01:30 on 1 Nov: %s", got)
	}
	if got := s.Next(first).UTC().Format(time.RFC3339); got != "2026-11-02T09:30:00Z" {
		t.Errorf("after the first 01:30: %s, want the next day's", got)
	}
	// Every minute of the skipped hour falls on the change: it runs once.
	every := mustSchedule(t, ScheduleRequest{Action: "Stop", Kind: "Cron", Cron: "*/15 2 * * *", TimeZone: "Europe/Berlin"})
	change := every.Next(at(t, "Europe/Berlin", "2026-03-29 01:59"))
	if got := change.UTC().Format(time.RFC3339); got != "2026-03-29T01:00:00Z" {
		t.Errorf("skipped hour: %s", got)
	}
	if got := every.Next(change).UTC().Format(time.RFC3339); got != "2026-03-30T00:00:00Z" {
		t.Errorf("after the change: %s, want the next day's 02:00", got)
	}
}

func TestCronErrors(t *testing.T) {
	for expr, want := range map[string]string{
		"":                "five fields",
		"0 18 * *":        "this one has 4",
		"60 * * * *":      "minute field's value \"60\"",
		"* 24 * * *":      "hour field",
		"* * 0 * *":       "day of the month",
		"* * * 13 *":      "month field",
		"* * * * 8":       "day of the week",
		"5-1 * * * *":     "runs backwards",
		"*/0 * * * *":     "step",
		"0 0 31 2,4 *":    "never runs",
		"0 0 30 2 *":      "never runs",
		"1,,2 * * * *":    "empty part",
		"+1 * * * *":      "not a number",
		"0 18 * * mon-xx": "\"xx\"",
	} {
		_, err := ParseCron(expr)
		if ErrorCode(err) != EINVALID || !strings.Contains(ErrorMessage(err), want) {
			t.Errorf("ParseCron(%q) = %v, want a message with %q", expr, err, want)
		}
	}
}

func TestRecurrenceForm(t *testing.T) {
	s := mustSchedule(t, ScheduleRequest{Action: "stop", Times: "08:00, 18:30, 08:30, 18:00", WeekDays: []string{"Monday", "fri", "1"}, TimeZone: "europe/berlin"})
	if got := s.Summary(); got != "Stop at 08:00, 08:30, 18:00, 18:30 on Mon, Fri (europe/berlin)" {
		t.Errorf("summary %q", got)
	}
	_, err := ParseSchedule(ScheduleRequest{Action: "", Times: "08:00, 18:30", TimeZone: "Mars/Olympus"})
	fields := ErrorFields(err)
	for _, f := range []string{"action", "time", "week_days", "time_zone"} {
		if fields[f] == "" {
			t.Errorf("no message for %s: %v", f, fields)
		}
	}
	if !(ScheduleRequest{TimeZone: "UTC", Kind: "Recurrence"}).Blank() {
		t.Error("a form's untouched schedule is not blank")
	}
}

func TestWindowsTimeZones(t *testing.T) {
	for name, want := range map[string]string{
		"Pacific Standard Time":   "America/Los_Angeles",
		"W. Europe Standard Time": "Europe/Berlin",
		"tokyo standard time":     "Asia/Tokyo",
		"UTC":                     "Etc/UTC", // Windows names it so too
		"Europe/Berlin":           "Europe/Berlin",
		"America/Argentina/Salta": "America/Argentina/Salta",
	} {
		loc, err := LoadTimeZone(name)
		if err != nil || loc.String() != want {
			t.Errorf("LoadTimeZone(%q) = %v, %v; want %s", name, loc, err, want)
		}
	}
	if len(windowsZones) < 130 {
		t.Errorf("only %d Windows zones: the generated table is incomplete", len(windowsZones))
	}
	for win, iana := range windowsZones {
		if _, err := time.LoadLocation(iana); err != nil {
			t.Errorf("%s maps to %s, which the embedded tzdata does not know", win, iana)
		}
	}
	for _, bad := range []string{"Local", "../../etc/passwd", "Nowhere/Place", "Pacific Standard", strings.Repeat("A", 80)} {
		if _, err := LoadTimeZone(bad); ErrorCode(err) != EINVALID {
			t.Errorf("LoadTimeZone(%q) = %v, want EINVALID", bad, err)
		}
	}
}

// FuzzParseCron: no input panics, and every refusal says what is wrong;
// what is accepted has a next run within the search bound.
func FuzzParseCron(f *testing.F) {
	for _, s := range []string{"0 18 * * 1-5", "*/5 * * * *", "0 0 29 2 *", "1-5/2 1,2 * jan-mar mon", "a b c d e", "0 0 31 2 *", "*/99999999999999999999 * * * *"} {
		f.Add(s)
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, expr string) {
		ts, err := ParseCron(expr)
		if err != nil {
			if ErrorCode(err) != EINVALID || ErrorMessage(err) == "" {
				t.Fatalf("ParseCron(%q): %v", expr, err)
			}
			return
		}
		if ts.next(start, time.UTC).IsZero() {
			t.Fatalf("ParseCron(%q) accepted an expression that never runs", expr)
		}
	})
}

// FuzzParseSchedule: a recurrence form never panics and refuses with
// messages by field.
func FuzzParseSchedule(f *testing.F) {
	f.Add("Stop", "Recurrence", "", "18:00", "Monday", "Europe/Berlin")
	f.Add("Start", "Cron", "0 8 * * 1-5", "", "", "Pacific Standard Time")
	f.Add("x", "y", "z", "99:99,", "Funday", "../etc")
	f.Fuzz(func(t *testing.T, action, kind, cron, times, day, zone string) {
		s, err := ParseSchedule(ScheduleRequest{Action: action, Kind: kind, Cron: cron, Times: times, WeekDays: []string{day}, TimeZone: zone})
		if err != nil {
			if ErrorCode(err) != EINVALID || len(ErrorFields(err)) == 0 {
				t.Fatalf("%v: no field messages", err)
			}
			return
		}
		_ = s.Next(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		_ = s.Summary()
	})
}
