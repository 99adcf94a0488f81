package web_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
)

// testClock is the service's clock in a test.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// The list shows each instance's last activity and its next automatic stop
// however far off; within the notice the row and the details page say when
// and why it stops, in words that read as a sentence.
func TestTheListShowsLastActivityAndTheNextStop(t *testing.T) {
	s := newSite(t, 0)
	s.SeedNamed(t, "busy-box", s.User)
	s.SeedNamed(t, "quiet-box", s.User)
	s.MakeVMs(t)
	inst, err := s.DB.FindInstanceByName(s.Ctx, "busy-box")
	if err != nil {
		t.Fatal(err)
	}
	// Two days after the instance was made, at 05:00 UTC.
	day := inst.UpdatedAt.UTC().Truncate(24 * time.Hour).Add(48 * time.Hour)
	clock := &testClock{t: day.Add(5 * time.Hour)}
	s.Service.Now = clock.Now
	sch, err := instancehub.ParseSchedule(instancehub.ScheduleRequest{Action: "Stop", Kind: "Cron", Cron: "11 7 * * *", TimeZone: "UTC"})
	if err != nil {
		t.Fatal(err)
	}
	sch.InstanceID, sch.CreatedAt = inst.ID, day.Add(-time.Hour)
	if err := s.DB.AddSchedule(s.Ctx, sch); err != nil {
		t.Fatal(err)
	}
	if err := s.DB.RecordActivity(s.Ctx, "busy-box", day.Add(4*time.Hour+59*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.Service.SetIdleShutdown(s.Ctx, "quiet-box", false, ""); err != nil {
		t.Fatal(err)
	}
	if err := s.Service.SetIdleShutdown(s.Ctx, "busy-box", true, "180"); err != nil {
		t.Fatal(err)
	}
	s.signIn(t, "ada@example.com")
	stopAt := timeOf(day.Add(7*time.Hour + 11*time.Minute))

	// At 05:00 the stop at 07:11 is two hours off: the column says it, the
	// row gives no notice yet.
	r := s.get(t, "/instances")
	wantStatus(t, r, 200)
	if got := texts(r.doc.Find("thead th:nth-child(n+8)")); strings.Join(got, "|") != "Last activity|Stops at|Actions" {
		t.Fatalf("the columns from the eighth: %q", got)
	}
	busy, quiet := r.doc.Find(`tr[data-name="busy-box"]`), r.doc.Find(`tr[data-name="quiet-box"]`)
	if got, want := text(busy.Find(lastActivityCell)), timeOf(day.Add(4*time.Hour+59*time.Minute)); got != want {
		t.Errorf("last activity = %q, want %q", got, want)
	}
	if got, want := texts(busy.Find(stopsAtCell+" > *")), []string{stopAt, "schedule 1"}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("stops at = %q, want %q", got, want)
	}
	if got := text(quiet.Find(stopsAtCell)); got != "" {
		t.Errorf("quiet-box stops at %q, want nothing", got)
	}
	if got := text(quiet.Find(lastActivityCell)); got != "" {
		t.Errorf("quiet-box's last activity %q, want nothing", got)
	}
	if n := busy.Find(`[data-testid="row-auto-stop"]`).Length(); n != 0 {
		t.Errorf("a notice two hours before the stop")
	}

	// At 07:00 the notice is in the row and on the details page.
	clock.Set(day.Add(7 * time.Hour))
	want := "Stops at " + stopAt + ": schedule 1: Stop cron 11 7 * * * (UTC)"
	r = s.get(t, "/instances")
	if got := strings.TrimSpace(r.doc.Find(`tr[data-name="busy-box"] [data-testid="row-auto-stop"]`).Text()); got != want {
		t.Errorf("row notice = %q, want %q", got, want)
	}
	r = s.get(t, "/instances/busy-box")
	if got := strings.TrimSpace(r.doc.Find(`[data-testid="auto-stop"] > span`).Text()); got != want+"." {
		t.Errorf("banner = %q, want %q", got, want+".")
	}
	// Idle shutdown at 08:00 is later than the schedule: the schedule wins;
	// once the schedule is gone, idle shutdown is the next stop.
	if err := s.DB.DeleteSchedule(s.Ctx, inst.ID, sch.ID); err != nil {
		t.Fatal(err)
	}
	r = s.get(t, "/instances")
	// (its clock started when it was set, at 05:00, after the activity at 04:59)
	if got, want := strings.Join(texts(r.doc.Find(`tr[data-name="busy-box"] `+stopsAtCell+" > *")), "|"), timeOf(day.Add(8*time.Hour))+"|idle shutdown"; got != want {
		t.Errorf("stops at = %q, want %q", got, want)
	}
}

// The list's columns of last activity and next stop (rows are lean: no
// test IDs on their cells).
const lastActivityCell, stopsAtCell = "td:nth-child(8)", "td:nth-child(9)"

// timeOf is a time as pages write it.
func timeOf(t time.Time) string { return t.UTC().Format("Jan 2, 2006, 15:04") + " UTC" }
