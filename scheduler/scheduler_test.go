package scheduler_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/azure/emulator"
	"github.com/instancehub/instancehub/engine"
	"github.com/instancehub/instancehub/internal/pgtest"
	"github.com/instancehub/instancehub/internal/testportal"
	"github.com/instancehub/instancehub/scheduler"
	"github.com/instancehub/instancehub/service"
	"github.com/instancehub/instancehub/store"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

// clock is a time tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// schedulerFor returns a scheduler of p on the clock, as serve wires it.
func schedulerFor(p *testportal.Portal, c *clock) *scheduler.Scheduler {
	p.Service.Now = c.Now
	return &scheduler.Scheduler{Store: p.DB, Operations: p.Engine, Service: p.Service, Logger: p.Service.Logger, Now: c.Now}
}

// probe answers as a running instance's Jupyter would.
type probe struct {
	activity instancehub.Activity
	err      error
	calls    int
}

func (p *probe) Probe(context.Context, *instancehub.Instance) (instancehub.Activity, error) {
	p.calls++
	return p.activity, p.err
}

// running seeds a running instance with its VM, and returns it.
func running(t *testing.T, p *testportal.Portal, name string) *instancehub.Instance {
	t.Helper()
	p.SeedNamed(t, name, p.User)
	p.MakeVMs(t)
	inst, err := p.DB.FindInstanceByName(p.Ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	return inst
}

func addSchedule(t *testing.T, p *testportal.Portal, inst *instancehub.Instance, req instancehub.ScheduleRequest, made time.Time) *instancehub.Schedule {
	t.Helper()
	sch, err := instancehub.ParseSchedule(req)
	if err != nil {
		t.Fatal(err)
	}
	sch.InstanceID, sch.CreatedAt = inst.ID, made
	if err := p.DB.AddSchedule(p.Ctx, sch); err != nil {
		t.Fatal(err)
	}
	return sch
}

func tick(t *testing.T, s *scheduler.Scheduler) scheduler.TickReport {
	t.Helper()
	r, err := s.RunTick(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func utc(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04:05", s)
	if err != nil {
		panic(err)
	}
	return t
}

// A schedule fires once per occurrence: with two portals ticking on one
// database in the same minute, and after a restart in that minute.
func TestScheduleFiresOnceAcrossPortalsAndRestarts(t *testing.T) {
	dir := t.TempDir()
	p := testportal.Open(t, dir, 0)
	inst := running(t, p, "evening-box")
	addSchedule(t, p, inst, instancehub.ScheduleRequest{Action: "Stop", Kind: "Cron", Cron: "0 18 * * *", TimeZone: "UTC"}, utc("2026-11-27 09:00:00"))

	// A second portal: its own connections to the same file, its own engine.
	db2, err := store.Open(context.Background(), filepath.Join(dir, "instancehub.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	engine2 := &engine.Engine{Instances: db2, Cloud: p.Cloud, Logger: p.Service.Logger, PollInterval: 5 * time.Millisecond}
	if err := engine2.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer engine2.Stop()
	service2 := service.New(service.Config{Store: db2, Cloud: p.Cloud, Operations: engine2, Logger: p.Service.Logger})

	c := &clock{t: utc("2026-11-27 17:59:30")}
	s1 := schedulerFor(p, c)
	s2 := &scheduler.Scheduler{Store: db2, Operations: engine2, Service: service2, Logger: service2.Logger, Now: c.Now}
	if r := tick(t, s1); r.Fired != 0 {
		t.Fatalf("fired before its time: %+v", r)
	}
	c.Set(utc("2026-11-27 18:00:05"))
	var wg sync.WaitGroup
	reports := make([]scheduler.TickReport, 2)
	for i, s := range []*scheduler.Scheduler{s1, s2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			reports[i] = tick(t, s)
		}()
	}
	wg.Wait()
	if got := reports[0].Fired + reports[1].Fired; got != 1 {
		t.Fatalf("two portals fired %d times: %+v", got, reports)
	}
	// A portal restarted within the minute reads the firing back.
	s3 := schedulerFor(p, c)
	c.Set(utc("2026-11-27 18:00:50"))
	if r := tick(t, s3); r != (scheduler.TickReport{}) {
		t.Fatalf("fired again after a restart: %+v", r)
	}
	stopped := p.WaitState(t, "evening-box", instancehub.StateStopped)
	op := stopped.LastOperation
	if op.Kind != instancehub.OpStop || op.Trigger != instancehub.TriggerSchedule || op.UserID != 0 ||
		!strings.HasPrefix(op.Actor(), "Portal (schedule ") || !strings.Contains(op.Rule, "Stop cron 0 18 * * * (UTC)") {
		t.Errorf("operation = %+v, actor %q", op, op.Actor())
	}
	events, _, err := p.DB.FindAuditEvents(p.Ctx, instancehub.AuditFilter{Action: "instance.stop"})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 || events[0].UserName != instancehub.PortalActor || !strings.Contains(events[0].Reason, "Trigger Schedule: schedule ") {
		t.Errorf("audit = %+v", events)
	}
}

// A portal down at the time fires a schedule missed by less than the grace
// period, and otherwise waits for the next time.
func TestMissedScheduleGrace(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0)
	late := running(t, p, "late-box")
	addSchedule(t, p, late, instancehub.ScheduleRequest{Action: "Start", Times: "08:00", WeekDays: []string{"Friday"}, TimeZone: "UTC"}, utc("2026-11-20 09:00:00"))
	c := &clock{t: utc("2026-11-27 08:14:00")} // a Friday, 14 minutes late
	s := schedulerFor(p, c)
	if r := tick(t, s); r.Skipped != 1 { // running already: recorded as skipped
		t.Fatalf("within the grace period: %+v", r)
	}
	tooLate := running(t, p, "too-late-box")
	addSchedule(t, p, tooLate, instancehub.ScheduleRequest{Action: "Start", Times: "07:55", WeekDays: []string{"Friday"}, TimeZone: "UTC"}, utc("2026-11-20 09:00:00"))
	c.Set(utc("2026-11-27 08:15:00")) // 20 minutes late
	if r := tick(t, s); r != (scheduler.TickReport{}) {
		t.Fatalf("past the grace period: %+v", r)
	}
	events, _, _ := p.DB.FindAuditEvents(p.Ctx, instancehub.AuditFilter{Action: "instance.start"})
	if len(events) != 1 || events[0].Result != instancehub.AuditSkipped || events[0].Target != "late-box" ||
		!strings.Contains(events[0].Reason, "Start is only allowed when the instance is stopped") {
		t.Errorf("audit = %+v", events)
	}
}

// A daily 02:30 schedule fires once on the day that skips 02:30 and once on
// the day that repeats it, ticking minute by minute through both.
func TestScheduleFiringAcrossDaylightSaving(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0)
	inst := running(t, p, "dst-box")
	// A start on a running instance is skipped, and recorded: each firing
	// leaves the instance as it is.
	addSchedule(t, p, inst, instancehub.ScheduleRequest{Action: "Start", Kind: "Cron", Cron: "30 2 * * *", TimeZone: "Europe/Berlin"}, utc("2026-01-01 00:00:00"))
	c := &clock{}
	s := schedulerFor(p, c)
	for _, day := range []struct{ from, to string }{
		{"2026-03-28 22:00:00", "2026-03-29 03:00:00"}, // 02:00 → 03:00 local
		{"2026-10-24 22:00:00", "2026-10-25 03:00:00"}, // 03:00 → 02:00 local
	} {
		fired := 0
		var at []time.Time
		for t0 := utc(day.from); t0.Before(utc(day.to)); t0 = t0.Add(time.Minute) {
			c.Set(t0)
			if r := tick(t, s); r.Skipped > 0 {
				fired += r.Skipped
				at = append(at, t0)
			}
		}
		if fired != 1 {
			t.Errorf("%s: fired %d times, at %v; want once", day.from, fired, at)
		}
	}
}

// A scheduled start refused by quota fails with the quota sentence in the
// history and the audit log, tells the owner on their next visit, and is
// not retried.
func TestScheduledStartOverQuota(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0)
	inst := running(t, p, "quota-box")
	if _, err := p.Service.Act(p.Ctx, "quota-box", instancehub.OpStop); err != nil {
		t.Fatal(err)
	}
	p.WaitState(t, "quota-box", instancehub.StateStopped)
	running(t, p, "other-box")
	if err := p.Service.SetWorkspaceLimit(p.Ctx, "eastus", "standardDSv2Family", 4, false); err != nil {
		t.Fatal(err)
	}
	addSchedule(t, p, inst, instancehub.ScheduleRequest{Action: "Start", Kind: "Cron", Cron: "0 8 * * *", TimeZone: "UTC"}, utc("2026-11-26 00:00:00"))
	c := &clock{t: utc("2026-11-27 08:00:10")}
	s := schedulerFor(p, c)
	if r := tick(t, s); r.Failed != 1 {
		t.Fatalf("tick = %+v", r)
	}
	c.Set(utc("2026-11-27 08:01:10"))
	if r := tick(t, s); r != (scheduler.TickReport{}) {
		t.Fatalf("retried: %+v", r)
	}
	const quota = "Standard DSv2 Family: 4 vCPUs requested, but 4 of the workspace's limit of 4 are in use in eastus."
	ops, _ := p.DB.FindOperations(p.Ctx, inst.ID, 0)
	if op := ops[0]; op.Kind != instancehub.OpStart || op.Status != instancehub.StatusFailed || op.Trigger != instancehub.TriggerSchedule || op.ErrorMessage != quota {
		t.Errorf("history = %+v", op)
	}
	events, _, _ := p.DB.FindAuditEvents(p.Ctx, instancehub.AuditFilter{Action: "instance.start"})
	if len(events) != 1 || events[0].Result != instancehub.AuditFailed || !strings.Contains(events[0].Reason, quota) {
		t.Errorf("audit = %+v", events)
	}
	notices, err := p.Service.TakeNotices(p.Ctx)
	if err != nil || len(notices) != 1 || !strings.Contains(notices[0], "The scheduled start of quota-box") || !strings.Contains(notices[0], quota) {
		t.Errorf("notices = %q, %v", notices, err)
	}
	if again, _ := p.Service.TakeNotices(p.Ctx); len(again) != 0 {
		t.Errorf("notices shown twice: %q", again)
	}
	if inst, _ := p.DB.FindInstanceByName(p.Ctx, "quota-box"); inst.State != instancehub.StateStopped {
		t.Errorf("state = %s", inst.State)
	}
}

// Idle shutdown stops an instance after its idle time, not before, and not
// while a kernel is busy or a notebook's WebSocket is open.
func TestIdleShutdown(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0)
	inst := running(t, p, "idle-box")
	c := &clock{}
	s := schedulerFor(p, c)
	jupyter := &probe{activity: instancehub.Activity{Kernels: 1, BusyKernels: 1}}
	p.Service.Probe = jupyter
	set := instancehub.IdleSince(inst).Add(time.Minute)
	c.Set(set)
	if err := p.Service.SetIdleShutdown(p.Ctx, "idle-box", true, "30"); err != nil {
		t.Fatal(err)
	}
	c.Set(set.Add(29 * time.Minute))
	if r := tick(t, s); r.IdleStopped != 0 || jupyter.calls != 0 {
		t.Fatalf("stopped, or asked Jupyter, before its time: %+v, %d calls", r, jupyter.calls)
	}
	detail, _ := p.Service.InstanceDetail(p.Ctx, "idle-box")
	if stop := detail.AutoStop; stop == nil || !stop.At.Equal(set.Add(30*time.Minute)) || stop.Trigger != instancehub.TriggerIdleShutdown {
		t.Errorf("notice = %+v, want idle shutdown at %s", stop, set.Add(30*time.Minute))
	}
	c.Set(set.Add(31 * time.Minute))
	if r := tick(t, s); r.IdleStopped != 0 {
		t.Fatalf("stopped with a kernel busy: %+v", r)
	}
	jupyter.activity = instancehub.Activity{Kernels: 1, Connections: 1}
	if r := tick(t, s); r.IdleStopped != 0 {
		t.Fatalf("stopped with a notebook's WebSocket open: %+v", r)
	}
	// In use, the instance's activity was recorded: its idle clock starts
	// again from then.
	jupyter.err = instancehub.Errorf(instancehub.EUNAVAILABLE, "no Jupyter running")
	if r := tick(t, s); r.IdleStopped != 0 {
		t.Fatalf("stopped right after it was in use: %+v", r)
	}
	c.Set(set.Add(61 * time.Minute))
	if r := tick(t, s); r.IdleStopped != 1 {
		t.Fatalf("not stopped once idle: %+v", r)
	}
	stopped := p.WaitState(t, "idle-box", instancehub.StateStopped)
	if op := stopped.LastOperation; op.Trigger != instancehub.TriggerIdleShutdown || op.Actor() != "Portal (idle shutdown after 30 minutes without activity)" {
		t.Errorf("operation = %+v", op)
	}
}

// Changing the setting restarts the idle clock.
func TestIdleSettingResetsClock(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0)
	inst := running(t, p, "reset-box")
	c := &clock{t: instancehub.IdleSince(inst).Add(time.Minute)}
	s := schedulerFor(p, c)
	if err := p.Service.SetIdleShutdown(p.Ctx, "reset-box", true, "15"); err != nil {
		t.Fatal(err)
	}
	c.Set(c.Now().Add(14 * time.Minute))
	if err := p.Service.SetIdleShutdown(p.Ctx, "reset-box", true, "20"); err != nil {
		t.Fatal(err)
	}
	c.Set(c.Now().Add(16 * time.Minute))
	if r := tick(t, s); r.IdleStopped != 0 {
		t.Fatal("the change did not restart the idle clock")
	}
	c.Set(c.Now().Add(5 * time.Minute))
	if r := tick(t, s); r.IdleStopped != 1 {
		t.Fatalf("not stopped 21 minutes after the change: %+v", r)
	}
	for _, bad := range []string{"14", "4321", "soon"} {
		if err := p.Service.SetIdleShutdown(p.Ctx, "reset-box", true, bad); instancehub.ErrorFields(err)["idle_minutes"] == "" {
			t.Errorf("idle time %q: %v", bad, err)
		}
	}
}

// The owner keeps a running instance running an hour past a scheduled stop,
// once; the stop then happens.
func TestKeepRunningPostponesScheduledStop(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0)
	inst := running(t, p, "late-worker")
	addSchedule(t, p, inst, instancehub.ScheduleRequest{Action: "Stop", Kind: "Cron", Cron: "0 18 * * *", TimeZone: "UTC"}, utc("2026-11-26 00:00:00"))
	c := &clock{t: utc("2026-11-27 17:40:00")}
	s := schedulerFor(p, c)
	if got, _ := p.Service.Instance(p.Ctx, "late-worker"); got.AutoStop != nil {
		t.Errorf("notice 20 minutes before: %+v", got.AutoStop)
	}
	c.Set(utc("2026-11-27 17:50:00"))
	got, _ := p.Service.Instance(p.Ctx, "late-worker")
	if got.AutoStop == nil || !got.AutoStop.At.Equal(utc("2026-11-27 18:00:00")) || got.AutoStop.Trigger != instancehub.TriggerSchedule {
		t.Fatalf("notice = %+v", got.AutoStop)
	}
	other := p.EnsureUser(t, "olive@example.com", "Olive", instancehub.RoleOwner)
	if _, err := p.Service.KeepRunning(p.As(other), "late-worker"); instancehub.ErrorCode(err) != instancehub.EFORBIDDEN {
		t.Errorf("another user kept it running: %v", err)
	}
	kept, err := p.Service.KeepRunning(p.Ctx, "late-worker")
	if err != nil || !kept.At.Equal(utc("2026-11-27 19:00:00")) {
		t.Fatalf("keep running = %+v, %v", kept, err)
	}
	if _, err := p.Service.KeepRunning(p.Ctx, "late-worker"); instancehub.ErrorCode(err) != instancehub.ECONFLICT {
		t.Errorf("postponed twice: %v", err)
	}
	c.Set(utc("2026-11-27 18:00:30"))
	if r := tick(t, s); r.Fired != 0 {
		t.Fatalf("stopped although kept running: %+v", r)
	}
	c.Set(utc("2026-11-27 19:00:10"))
	if r := tick(t, s); r.Fired != 1 {
		t.Fatalf("not stopped an hour later: %+v", r)
	}
	p.WaitState(t, "late-worker", instancehub.StateStopped)
}

// Schedules are validated and at most four per instance.
func TestSchedulesPerInstance(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0)
	running(t, p, "busy-box")
	req := instancehub.ScheduleRequest{Action: "Stop", Times: "18:00", WeekDays: []string{"Monday"}, TimeZone: "Pacific Standard Time"}
	for range instancehub.MaxSchedules {
		if _, err := p.Service.AddSchedule(p.Ctx, "busy-box", req); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.Service.AddSchedule(p.Ctx, "busy-box", req); instancehub.ErrorCode(err) != instancehub.ECONFLICT {
		t.Errorf("fifth schedule: %v", err)
	}
	inst, _ := p.DB.FindInstanceByName(p.Ctx, "busy-box")
	all, _ := p.DB.FindSchedules(p.Ctx, inst.ID)
	req.Kind, req.Cron = "Cron", "0 7 * * 1-5"
	edited, err := p.Service.UpdateSchedule(p.Ctx, "busy-box", all[0].ID, req)
	if err != nil || edited.Summary() != "Stop cron 0 7 * * 1-5 (Pacific Standard Time)" {
		t.Fatalf("edit = %v, %v", edited, err)
	}
	if err := p.Service.DeleteSchedule(p.Ctx, "busy-box", all[1].ID); err != nil {
		t.Fatal(err)
	}
	reader := p.EnsureUser(t, "rita@example.com", "Rita", instancehub.RoleReader)
	if _, err := p.Service.AddSchedule(p.As(reader), "busy-box", req); instancehub.ErrorCode(err) != instancehub.EFORBIDDEN {
		t.Errorf("a Reader added a schedule: %v", err)
	}
	detail, _ := p.Service.InstanceDetail(p.Ctx, "busy-box")
	if len(detail.Schedules) != 3 || detail.Schedules[0].Cron != "0 7 * * 1-5" {
		t.Errorf("schedules = %+v", detail.Schedules)
	}
}

// BenchmarkSchedulerTick evaluates the schedules and idle rules of 10,000
// running instances, none due, in one tick, and reports the bytes the tick
// wrote to the database's log: none.
func BenchmarkSchedulerTick(b *testing.B) {
	p := testportal.Open(b, b.TempDir(), 0)
	const n = 10_000
	p.Seed(b, "bench", n, p.User)
	instances, _, err := p.DB.FindInstances(p.Ctx, instancehub.InstanceFilter{})
	if err != nil {
		b.Fatal(err)
	}
	made := utc("2026-11-27 09:00:00")
	for i, inst := range instances {
		if err := p.DB.SetIdleShutdown(p.Ctx, inst.ID, 3*24*time.Hour, made); err != nil {
			b.Fatal(err)
		}
		req := instancehub.ScheduleRequest{Action: "Stop", Kind: "Cron", Cron: "0 23 * * 1-5", TimeZone: "Europe/Berlin"}
		if i%2 == 1 {
			req = instancehub.ScheduleRequest{Action: "Start", Times: "07:30", WeekDays: []string{"Monday"}, TimeZone: "Pacific Standard Time"}
		}
		sch, _ := instancehub.ParseSchedule(req)
		sch.InstanceID, sch.CreatedAt = inst.ID, made
		if err := p.DB.AddSchedule(p.Ctx, sch); err != nil {
			b.Fatal(err)
		}
	}
	c := &clock{t: utc("2026-11-27 12:00:00")}
	s := schedulerFor(p, c)
	wal := filepath.Join(p.Dir, "instancehub.db-wal")
	before := fileSize(b, wal)
	b.ResetTimer()
	for b.Loop() {
		if r, err := s.RunTick(context.Background()); err != nil || r != (scheduler.TickReport{}) {
			b.Fatalf("tick = %+v, %v", r, err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/tick")
	b.ReportMetric(float64(fileSize(b, wal)-before), "wal-bytes-written")
}

func fileSize(b *testing.B, path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	return fi.Size()
}

// TestReplicasFireSchedulesAndIdleShutdownOnce: two replicas on one
// PostgreSQL database tick in the same second, when a schedule is due on
// one instance and another has been idle past its shutdown: each stops
// once, whichever replica's tick got there first.
func TestReplicasFireSchedulesAndIdleShutdownOnce(t *testing.T) {
	first := testportal.OpenPostgres(t, pgtest.NewDatabase(t), "r0", 3*time.Second, emulator.Options{})
	second := first.Replica(t, "r1", 3*time.Second)
	evening, idle := running(t, first, "evening-box"), running(t, first, "idle-box")
	set := instancehub.IdleSince(idle).Add(time.Minute)
	due := set.Add(31 * time.Minute).Truncate(time.Minute)
	addSchedule(t, first, evening, instancehub.ScheduleRequest{Action: "Stop", Kind: "Cron",
		Cron: fmt.Sprintf("%d %d * * *", due.Minute(), due.Hour()), TimeZone: "UTC"}, set)
	c := &clock{t: set}
	schedulers := []*scheduler.Scheduler{schedulerFor(first, c), schedulerFor(second, c)}
	for _, p := range []*testportal.Portal{first, second} {
		p.Service.Probe = &probe{} // no kernel, no connection: idle
	}
	if err := first.Service.SetIdleShutdown(first.Ctx, "idle-box", true, "30"); err != nil {
		t.Fatal(err)
	}
	c.Set(due.Add(5 * time.Second))
	var wg sync.WaitGroup
	reports := make([]scheduler.TickReport, 2)
	for i, s := range schedulers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			reports[i] = tick(t, s)
		}()
	}
	wg.Wait()
	if fired, stopped := reports[0].Fired+reports[1].Fired, reports[0].IdleStopped+reports[1].IdleStopped; fired != 1 || stopped != 1 {
		t.Fatalf("fired %d, idle-stopped %d; want 1 and 1: %+v", fired, stopped, reports)
	}
	for _, name := range []string{"evening-box", "idle-box"} {
		first.WaitState(t, name, instancehub.StateStopped)
		ops, err := first.DB.FindOperations(first.Ctx, map[string]int64{"evening-box": evening.ID, "idle-box": idle.ID}[name], 10)
		if err != nil {
			t.Fatal(err)
		}
		stops := 0
		for _, op := range ops {
			if op.Kind == instancehub.OpStop {
				stops++
			}
		}
		if stops != 1 {
			t.Errorf("%s was stopped %d times", name, stops)
		}
	}
}

// TestAClockJumpFiresNothingTwice: the portal's clock jumps an hour back
// after a scheduled stop and a scheduled start fired, then forward again,
// and an hour forward and back: ticking every minute throughout, each
// fires once, and the instance ends as the schedules left it.
func TestAClockJumpFiresNothingTwice(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0)
	inst := running(t, p, "jumping-box")
	made := utc("2026-11-27 09:00:00")
	addSchedule(t, p, inst, instancehub.ScheduleRequest{Action: "Stop", Kind: "Cron", Cron: "0 18 * * *", TimeZone: "UTC"}, made)
	addSchedule(t, p, inst, instancehub.ScheduleRequest{Action: "Start", Kind: "Cron", Cron: "30 18 * * *", TimeZone: "UTC"}, made)
	c := &clock{t: utc("2026-11-27 17:58:10")}
	s := schedulerFor(p, c)
	var fired int
	minutes := func(n int) {
		t.Helper()
		for range n {
			c.Set(c.Now().Add(time.Minute))
			fired += tick(t, s).Fired
			settled(t, p, "jumping-box")
		}
	}
	minutes(5)                     // 18:03: the stop fired
	c.Set(c.Now().Add(-time.Hour)) // 17:03
	minutes(30)                    // 17:33
	c.Set(c.Now().Add(time.Hour))  // 18:33: the start is 3 minutes late
	minutes(3)
	c.Set(c.Now().Add(-time.Hour)) // 17:36
	minutes(30)                    // back through the stop's and the start's times
	c.Set(c.Now().Add(time.Hour))  // 19:06
	c.Set(c.Now().Add(time.Hour))  // 20:06
	minutes(2)
	c.Set(c.Now().Add(-time.Hour)) // 19:08
	minutes(2)
	if fired != 2 {
		t.Errorf("fired %d times, want the stop and the start once each", fired)
	}
	ops, err := p.DB.FindOperations(p.Ctx, inst.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, op := range ops {
		kinds = append(kinds, string(op.Kind)+" "+string(op.Trigger))
	}
	if want := []string{"Start Schedule", "Stop Schedule", "Create User"}; !slices.Equal(kinds, want) {
		t.Errorf("operations %q, want %q", kinds, want)
	}
	if got := p.WaitState(t, "jumping-box", instancehub.StateRunning); got.State != instancehub.StateRunning {
		t.Errorf("state %s", got.State)
	}
}

// settled waits until the last operation of the instance name has ended.
func settled(t *testing.T, p *testportal.Portal, name string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		inst, err := p.DB.FindInstanceByName(p.Ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if op := inst.LastOperation; op == nil || op.Status != instancehub.StatusInProgress {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %+v still in progress", name, inst.LastOperation)
		}
	}
}

// TestStartTellsEachTickEnded: Start ticks at once, then every Tick, and
// tells AfterTick when each tick ended, so the portal can give back what a
// tick over many instances left.
func TestStartTellsEachTickEnded(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0)
	c := &clock{t: time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)}
	s := schedulerFor(p, c)
	ended := make(chan struct{}, 10)
	s.Tick, s.AfterTick = 20*time.Millisecond, func() {
		select {
		case ended <- struct{}{}:
		default: // the test has what it needs
		}
	}
	s.Start(context.Background())
	defer s.Stop()
	for i := range 2 {
		select {
		case <-ended:
		case <-time.After(10 * time.Second):
			t.Fatalf("tick %d ended without AfterTick", i+1)
		}
	}
}
