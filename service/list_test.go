package service_test

import (
	"testing"
	"time"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/internal/testportal"
)

// TestListWithoutNextStops: the list the API asks for (NoNextStops) leaves
// each running instance's next stop unread, which the page's list reads.
func TestListWithoutNextStops(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0)
	p.SeedNamed(t, "stopping-box", p.User)
	inst, err := p.DB.FindInstanceByName(p.Ctx, "stopping-box")
	if err != nil {
		t.Fatal(err)
	}
	p.Service.Now = func() time.Time { return inst.UpdatedAt.Add(time.Hour) }
	sch, err := instancehub.ParseSchedule(instancehub.ScheduleRequest{Action: "Stop", Kind: "Cron", Cron: "0 19 * * *", TimeZone: "UTC"})
	if err != nil {
		t.Fatal(err)
	}
	sch.InstanceID, sch.CreatedAt = inst.ID, inst.UpdatedAt
	if err := p.DB.AddSchedule(p.Ctx, sch); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		noNextStops, want bool
	}{{false, true}, {true, false}} {
		page, err := p.Service.ListInstances(p.Ctx, instancehub.ListQuery{NoNextStops: c.noNextStops})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Instances) != 1 || page.Total != 1 {
			t.Fatalf("NoNextStops %v: %d instances of %d", c.noNextStops, len(page.Instances), page.Total)
		}
		got := page.Instances[0]
		if got.State != instancehub.StateRunning {
			t.Fatalf("the seeded instance is %s", got.State)
		}
		if (got.NextStop != nil) != c.want {
			t.Errorf("NoNextStops %v: next stop %+v", c.noNextStops, got.NextStop)
		}
	}
}
