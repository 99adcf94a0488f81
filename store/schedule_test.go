package store

import (
	"context"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
)

// TestSchedulesAreKeptUntilAChange: the schedules of given instances (a
// list page's running ones, at every view) are read once while nothing is
// committed, each caller gets copies of its own to change, and a new
// schedule shows at the next find.
func TestSchedulesAreKeptUntilAChange(t *testing.T) {
	db, _ := openTestDB(t)
	ctx := context.Background()
	ada := createUser(t, db, "ada@example.com", "Ada")
	lab := runningInstance(t, db, "lab", ada)
	other := runningInstance(t, db, "other", ada)
	add := func(inst *instancehub.Instance, hour int) {
		t.Helper()
		s := &instancehub.Schedule{InstanceID: inst.ID, Action: instancehub.OpStop, Kind: instancehub.ScheduleRecurrence,
			Hours: []int{hour}, Minutes: []int{0}, WeekDays: []time.Weekday{time.Monday}, TimeZone: "UTC"}
		if err := db.AddSchedule(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	add(lab, 18)
	add(other, 19)
	reads := &readCounter{}
	db.Metrics = reads

	first, err := db.FindSchedules(ctx, lab.ID, other.ID)
	if err != nil || len(first) != 2 {
		t.Fatalf("%d schedules, %v", len(first), err)
	}
	before := reads.count()
	first[0].Hours[0], first[0].WeekDays = 3, nil
	again, err := db.FindSchedules(ctx, lab.ID, other.ID)
	if err != nil {
		t.Fatal(err)
	}
	if reads.count() != before {
		t.Fatalf("%d reads for the same schedules with nothing committed", reads.count()-before)
	}
	if again[0].Hours[0] != 18 || len(again[0].WeekDays) != 1 {
		t.Fatalf("a caller's change reached the kept schedules: %+v", again[0])
	}
	if one, err := db.FindSchedules(ctx, lab.ID); err != nil || len(one) != 1 || one[0].InstanceID != lab.ID {
		t.Fatalf("one instance's: %+v, %v", one, err)
	}

	add(lab, 20)
	if after, err := db.FindSchedules(ctx, lab.ID, other.ID); err != nil || len(after) != 3 {
		t.Fatalf("after a schedule was added: %d, %v", len(after), err)
	}
	if all, err := db.FindSchedules(ctx); err != nil || len(all) != 3 {
		t.Fatalf("every live instance's: %d, %v", len(all), err)
	}
}
