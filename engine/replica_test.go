package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/engine"
	"github.com/instancehub/instancehub/internal/testportal"
)

// TestReplicaTakesOverAfterCrash: two replicas' engines on one database;
// the one driving a create dies mid-step (its lease stays), and the other
// claims the operation once the lease lapses, resumes it from its resume
// token, and ends it: the one operation, succeeded. A replica that dies
// has its operations taken over within a lease period and a renewal tick.
func TestReplicaTakesOverAfterCrash(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0.2) // the VM step ≈ 1.6 s
	p.Engine.Stop()
	const lease = 900 * time.Millisecond
	replica := func(name string) *engine.Engine {
		e := &engine.Engine{Instances: p.DB, Cloud: p.Cloud, Logger: p.Engine.Logger,
			PollInterval: 5 * time.Millisecond, Replica: name, LeaseFor: lease}
		if err := e.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		return e
	}
	a, b := replica("a"), replica("b")
	defer b.Stop()
	p.Service.Engine = a
	if _, err := p.Service.CreateInstance(p.Ctx, testportal.Request("failover")); err != nil {
		t.Fatal(err)
	}
	p.WaitStep(t, "failover", "virtual machine")
	a.Crash()
	crashed := time.Now()
	running := p.WaitState(t, "failover", instancehub.StateRunning)
	took := time.Since(crashed)
	ops, err := p.DB.FindOperations(p.Ctx, running.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) != 1 || ops[0].Status != instancehub.StatusSucceeded {
		t.Fatalf("operations = %+v, want the one create, succeeded", ops)
	}
	if vm, err := p.Cloud.VM(p.Ctx, running); err != nil || vm.PowerState != "running" {
		t.Errorf("the VM: %+v, %v", vm, err)
	}
	t.Logf("taken over and finished %v after the crash (lease %v)", took.Round(time.Millisecond), lease)
}

// TestReplicaLosesTakenOverOperation: a replica that stalled past its lease
// (a long pause, a cut network) finds the operation taken over and stops
// driving it, writing nothing: its progress and its end are refused.
func TestReplicaLosesTakenOverOperation(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0)
	if _, err := p.Service.CreateInstance(p.Ctx, testportal.Request("fenced")); err != nil {
		t.Fatal(err)
	}
	inst := p.WaitState(t, "fenced", instancehub.StateRunning)
	if err := p.DB.BeginOperation(p.Ctx, &instancehub.Operation{InstanceID: inst.ID, Kind: instancehub.OpStop,
		Trigger: instancehub.TriggerUser, LeaseOwner: "stalled", LeaseFor: -time.Second}); err != nil {
		t.Fatal(err)
	}
	ids, err := p.DB.ClaimLapsedOperations(p.Ctx, "other", time.Minute, false)
	if err != nil || len(ids) != 1 {
		t.Fatalf("claimed %v, %v; want the stalled replica's stop", ids, err)
	}
	op, err := p.DB.FindOperation(p.Ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	op.LeaseOwner, op.Step = "stalled", "deallocate"
	if err := p.DB.SaveOperationProgress(p.Ctx, op); err != instancehub.ErrLeaseLost {
		t.Errorf("the stalled replica's progress: %v, want ErrLeaseLost", err)
	}
	op.Status = instancehub.StatusSucceeded
	if err := p.DB.FinishOperation(p.Ctx, op, instancehub.InstanceUpdate{State: instancehub.StateStopped}); err != instancehub.ErrLeaseLost {
		t.Errorf("the stalled replica's end: %v, want ErrLeaseLost", err)
	}
	if held, err := p.DB.RenewOperations(p.Ctx, "stalled", []int64{op.ID}, time.Minute); err != nil || len(held) != 0 {
		t.Errorf("the stalled replica renewed %v, %v; want nothing", held, err)
	}
	op.LeaseOwner = "other"
	if err := p.DB.FinishOperation(p.Ctx, op, instancehub.InstanceUpdate{State: instancehub.StateStopped}); err != nil {
		t.Errorf("the owner's end: %v", err)
	}
}
