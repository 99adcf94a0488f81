package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
)

// TestAPIScheduleStartTime: a schedule's trigger.start_time (az ml's) is
// never dropped: one later than the service's clock is refused on its key,
// line and column, with the reason, and nothing is made; one passed
// already, read in the trigger's time zone, is a schedule that applies
// from now, as the portal's do.
func TestAPIScheduleStartTime(t *testing.T) {
	s := newSite(t, 0)
	a := apiClient{s, newToken(t, s, "ada@example.com", instancehub.NewToken{})}
	now := time.Now().UTC().Truncate(time.Minute) // the test's clock, stopped
	s.Service.Now = func() time.Time { return now }
	pacific, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		t.Fatal(err)
	}
	file := func(name, start, zone string) string {
		return fmt.Sprintf("name: %s\ntype: computeinstance\nsize: Standard_DS1_v2\nschedules:\n  compute_start_stop:\n"+
			"    - action: stop\n      trigger:\n        type: cron\n        expression: 0 19 * * 1-5\n"+
			"        start_time: %q\n        time_zone: %s\n", name, start, zone)
	}
	const key = "schedules.compute_start_stop[0].trigger.start_time"
	for _, c := range []struct{ name, start, zone, want string }{
		{"later-utc", now.Add(time.Hour).Format("2006-01-02T15:04:05"), "UTC",
			"line 10, column 9: The schedule starts at " + now.Add(time.Hour).Format("2006-01-02 15:04") + " UTC, later than now"},
		{"later-pacific", now.In(pacific).Add(time.Minute).Format("2006-01-02T15:04"), "Pacific Standard Time",
			"The schedule starts at " + now.In(pacific).Add(time.Minute).Format("2006-01-02 15:04 MST") + ", later than now"},
		{"later-offset", now.Add(24 * time.Hour).Format(time.RFC3339), "UTC", "later than now"},
		{"not-a-time", "next tuesday", "UTC", `line 10, column 9: "next tuesday" is not a date and time such as 2026-12-07T09:00:00.`},
	} {
		r := a.call(t, "POST", "/api/v1/computes", "application/yaml", file(c.name, c.start, c.zone))
		wantStatus(t, r, http.StatusUnprocessableEntity)
		e := apiErrorOf(t, r)
		if len(e.Error.Details) != 1 || e.Error.Details[0].Target != key || !strings.Contains(e.Error.Details[0].Message, c.want) {
			t.Errorf("%s (%s): %+v, want %q on %s", c.name, c.start, e.Error, c.want, key)
		}
		wantStatus(t, a.get(t, "/api/v1/computes/"+c.name), http.StatusNotFound)
	}

	// Passed already: an hour ago in Los Angeles, which read as UTC would
	// be hours ahead of the clock.
	r := a.call(t, "POST", "/api/v1/computes", "application/yaml", file("began-box", now.In(pacific).Add(-time.Hour).Format("2006-01-02T15:04:05"), "Pacific Standard Time"))
	wantStatus(t, r, http.StatusAccepted)
	r = a.call(t, "POST", "/api/v1/computes", "application/yaml", file("now-box", now.Format("2006-01-02T15:04:05"), "UTC"))
	wantStatus(t, r, http.StatusAccepted)
	inst, err := s.DB.FindInstanceByName(s.Ctx, "began-box")
	if err != nil {
		t.Fatal(err)
	}
	schedules, err := s.DB.FindSchedules(s.Ctx, inst.ID)
	if err != nil || len(schedules) != 1 || schedules[0].Cron != "0 19 * * 1-5" {
		t.Errorf("began-box's schedules: %+v %v", schedules, err)
	}
}
