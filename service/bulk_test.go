package service_test

import (
	"strings"
	"testing"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/internal/testportal"
)

// TestBulkAct: a bulk Stop goes through each instance's own rules and
// audit: a Data Scientist's own instance stops, another's is refused with
// the permission, one already stopped is refused with its state, an
// unknown name is refused, and names given twice count once.
func TestBulkAct(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0)
	dana := p.EnsureUser(t, "dana@example.com", "Dana Data", instancehub.RoleDataScientist)
	p.SeedNamed(t, "dana-one", dana)
	p.SeedNamed(t, "dana-two", dana)
	p.SeedNamed(t, "ada-box", p.User)
	p.MakeVMs(t)
	ctx := p.As(dana)
	if _, err := p.Service.Act(ctx, "dana-two", instancehub.OpStop); err != nil {
		t.Fatal(err)
	}
	p.WaitState(t, "dana-two", instancehub.StateStopped)

	r, err := p.Service.BulkAct(ctx, []string{"dana-one", "DANA-ONE", "dana-two", "ada-box", "nothing-here", " "}, instancehub.OpStop)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Done) != 1 || r.Done[0] != "dana-one" {
		t.Errorf("done = %v, want dana-one alone", r.Done)
	}
	reasons := map[string]string{}
	for _, x := range r.Refused {
		reasons[x.Name] = x.Reason
	}
	for name, want := range map[string]string{"dana-two": "stopped", "ada-box": "instances/manage", "nothing-here": "not found"} {
		if !strings.Contains(reasons[name], want) {
			t.Errorf("%s refused with %q, want %q in it", name, reasons[name], want)
		}
	}
	if len(r.Refused) != 3 {
		t.Errorf("refused = %+v", r.Refused)
	}
	events, err := p.Service.AuditEvents(p.Ctx, instancehub.AuditFilter{Action: "instance.stop", User: "dana"}, 1)
	if err != nil {
		t.Fatal(err)
	}
	// The single stop, then the bulk one's four: one done, and three
	// refused in the same minute, tallied in one row per result (two
	// failures, one denial).
	counts := map[string]int{}
	for _, e := range events.Events {
		counts[e.Result] += e.Count
	}
	if events.Total != 4 || counts[instancehub.AuditSucceeded] != 2 || counts[instancehub.AuditFailed] != 2 || counts[instancehub.AuditDenied] != 1 {
		t.Errorf("audited stops: %d rows counting %v, want 4 rows: 2 done, 2 failed, 1 denied", events.Total, counts)
	}

	if _, err := p.Service.BulkAct(ctx, nil, instancehub.OpStart); instancehub.ErrorCode(err) != instancehub.EINVALID {
		t.Errorf("nothing selected: %v", err)
	}
	many := make([]string, instancehub.MaxBulk+1)
	for i := range many {
		many[i] = "box-" + strings.Repeat("x", i%20) + string(rune('a'+i%26)) + string(rune('a'+i/26))
	}
	if _, err := p.Service.BulkAct(ctx, many, instancehub.OpStart); instancehub.ErrorCode(err) != instancehub.EINVALID {
		t.Errorf("too many selected: %v", err)
	}
	flood := make([]string, 4*instancehub.MaxBulk+1)
	for i := range flood {
		flood[i] = "dana-one"
	}
	if _, err := p.Service.BulkAct(ctx, flood, instancehub.OpStart); instancehub.ErrorCode(err) != instancehub.EINVALID {
		t.Errorf("a flood of names: %v", err)
	}
	nobody := p.EnsureUser(t, "nobody@example.com", "Nobody")
	if _, err := p.Service.BulkAct(p.As(nobody), []string{"dana-one"}, instancehub.OpStop); instancehub.ErrorCode(err) != instancehub.EFORBIDDEN {
		t.Errorf("someone without a role: %v", err)
	}
}
