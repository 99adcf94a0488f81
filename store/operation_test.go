package store

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
)

func TestBeginOperationByState(t *testing.T) {
	const ok = ""
	tests := []struct {
		state instancehub.State
		kind  instancehub.OperationKind
		code  string
	}{
		{instancehub.StateRunning, instancehub.OpStop, ok},
		{instancehub.StateRunning, instancehub.OpRestart, ok},
		{instancehub.StateRunning, instancehub.OpDelete, ok},
		{instancehub.StateRunning, instancehub.OpStart, instancehub.ECONFLICT},
		{instancehub.StateStopped, instancehub.OpStart, ok},
		{instancehub.StateStopped, instancehub.OpDelete, ok},
		{instancehub.StateStopped, instancehub.OpStop, instancehub.ECONFLICT},
		{instancehub.StateStopped, instancehub.OpRestart, instancehub.ECONFLICT},
		{instancehub.StateUnusable, instancehub.OpRestart, ok},
		{instancehub.StateCreateFailed, instancehub.OpDelete, ok},
		{instancehub.StateCreateFailed, instancehub.OpStart, instancehub.ECONFLICT},
		{instancehub.StateMissing, instancehub.OpDelete, ok},
		{instancehub.StateMissing, instancehub.OpStart, instancehub.ECONFLICT},
		{instancehub.StateUnknown, instancehub.OpDelete, ok},
		{instancehub.StateStarting, instancehub.OpDelete, instancehub.ECONFLICT},
		{instancehub.StateRunning, instancehub.OpCreate, instancehub.ECONFLICT},
	}
	db, clock := openTestDB(t)
	ada := createUser(t, db, "ada@example.com", "Ada")
	for i, tt := range tests {
		t.Run(fmt.Sprintf("%s %s", tt.kind, tt.state), func(t *testing.T) {
			inst := runningInstance(t, db, fmt.Sprintf("lab-%d", i), ada)
			setState(t, db, inst, tt.state)
			clock.Add(time.Second)
			op := &instancehub.Operation{InstanceID: inst.ID, Kind: tt.kind, Trigger: instancehub.TriggerSchedule}
			err := db.BeginOperation(context.Background(), op)
			wantCode(t, err, tt.code)

			got := findByID(t, db, inst.ID)
			if tt.code != ok {
				if got.State != tt.state || got.LastOperation.Kind != instancehub.OpCreate {
					t.Errorf("refused, yet the instance is %s after %s", got.State, got.LastOperation.Kind)
				}
				return
			}
			if got.State != tt.kind.Progressive() {
				t.Errorf("state %s, want %s", got.State, tt.kind.Progressive())
			}
			last := got.LastOperation
			if op.ID == 0 || last.ID != op.ID || last.Status != instancehub.StatusInProgress ||
				op.InstanceName != inst.Name || last.UserID != 0 || last.Trigger != instancehub.TriggerSchedule ||
				!last.StartedAt.Equal(clock.Now()) || !last.FinishedAt.IsZero() {
				t.Errorf("operation %+v recorded as %+v", op, last)
			}
		})
	}
}

func TestBeginOperationRefused(t *testing.T) {
	db, _ := openTestDB(t)
	ctx := context.Background()
	ada := createUser(t, db, "ada@example.com", "Ada")
	creating, _ := createInstance(t, db, "creating", ada)
	deleted := runningInstance(t, db, "deleted", ada)
	deleteInstance(t, db, deleted, ada)
	stopping := runningInstance(t, db, "stopping", ada)
	begin(t, db, stopping, instancehub.OpStop, ada)
	// An instance whose state allows Stop while an operation is under way,
	// which only a bug could cause: the operation in progress still wins.
	odd, _ := createInstance(t, db, "odd", ada)
	if _, err := db.rawExec(ctx, `UPDATE instances SET state = 'Running' WHERE id = ?`, odd.ID); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		id   int64
		kind instancehub.OperationKind
		code string
	}{
		{"while creating", creating.ID, instancehub.OpDelete, instancehub.ECONFLICT},
		{"while stopping", stopping.ID, instancehub.OpStop, instancehub.ECONFLICT},
		{"while stopping, delete", stopping.ID, instancehub.OpDelete, instancehub.ECONFLICT},
		{"operation in progress", odd.ID, instancehub.OpStop, instancehub.ECONFLICT},
		{"deleted", deleted.ID, instancehub.OpStart, instancehub.ENOTFOUND},
		{"deleted, delete again", deleted.ID, instancehub.OpDelete, instancehub.ENOTFOUND},
		{"no such instance", 999, instancehub.OpStart, instancehub.ENOTFOUND},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			op := &instancehub.Operation{InstanceID: tt.id, Kind: tt.kind, UserID: ada.ID}
			wantCode(t, db.BeginOperation(ctx, op), tt.code)
			if op.ID != 0 {
				t.Errorf("a refused operation got ID %d", op.ID)
			}
		})
	}
	pending, err := db.PendingOperations(ctx)
	if err != nil || len(pending) != 3 {
		t.Errorf("%d pending operations (%v), want the 3 begun by the setup", len(pending), err)
	}
}

// TestBeginOperationRace starts 20 operations on one instance at once:
// exactly one may win, and every other must be told ECONFLICT, not fail
// with SQLITE_BUSY.
func TestBeginOperationRace(t *testing.T) {
	db, _ := openTestDB(t)
	ctx := context.Background()
	ada := createUser(t, db, "ada@example.com", "Ada")
	inst := runningInstance(t, db, "contested", ada)
	kinds := []instancehub.OperationKind{instancehub.OpStop, instancehub.OpRestart, instancehub.OpDelete}

	const n = 20
	errs := make([]error, n)
	ready := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			op := &instancehub.Operation{InstanceID: inst.ID, Kind: kinds[i%len(kinds)], UserID: ada.ID}
			<-ready
			errs[i] = db.BeginOperation(ctx, op)
		})
	}
	close(ready)
	wg.Wait()

	won := 0
	for i, err := range errs {
		switch instancehub.ErrorCode(err) {
		case "":
			won++
		case instancehub.ECONFLICT:
		default:
			t.Errorf("goroutine %d: %v", i, err)
		}
	}
	if won != 1 {
		t.Errorf("%d operations began, want exactly 1", won)
	}
	ops, err := db.FindOperations(ctx, inst.ID, 0)
	if err != nil || len(ops) != 2 {
		t.Fatalf("%d operations recorded (%v), want Create and the winner", len(ops), err)
	}
	if got := findByID(t, db, inst.ID).State; got != ops[0].Kind.Progressive() {
		t.Errorf("instance is %s after %s began", got, ops[0].Kind)
	}
}

func TestOneOperationInProgressIsASchemaRule(t *testing.T) {
	db, _ := openTestDB(t)
	ada := createUser(t, db, "ada@example.com", "Ada")
	inst, _ := createInstance(t, db, "lab", ada)
	_, err := db.rawExec(context.Background(), `
		INSERT INTO operations (instance_id, kind, status, triggered_by, started_at)
		VALUES (?, 'Delete', 'InProgress', 'User', 0)`, inst.ID)
	if !isUnique(err) {
		t.Errorf("a second operation in progress: %v, want a UNIQUE violation", err)
	}
}

func TestSaveOperationProgress(t *testing.T) {
	db, _ := openTestDB(t)
	ctx := context.Background()
	ada := createUser(t, db, "ada@example.com", "Ada")
	_, op := createInstance(t, db, "lab", ada)

	op.Step, op.ResumeToken = "network interface", `{"type":"Azure-AsyncOperation"}`
	if err := db.SaveOperationProgress(ctx, op); err != nil {
		t.Fatal(err)
	}
	pending, err := db.PendingOperations(ctx)
	if err != nil || len(pending) != 1 {
		t.Fatalf("PendingOperations = %v, %v", pending, err)
	}
	if got := pending[0]; got.Step != op.Step || got.ResumeToken != op.ResumeToken {
		t.Errorf("saved step %q token %q, want %q %q", got.Step, got.ResumeToken, op.Step, op.ResumeToken)
	}
	wantCode(t, db.SaveOperationProgress(ctx, &instancehub.Operation{ID: 999}), instancehub.ENOTFOUND)
}

func TestFinishOperation(t *testing.T) {
	tests := []struct {
		name   string
		op     instancehub.Operation
		update instancehub.InstanceUpdate
	}{
		{"succeeded", instancehub.Operation{Status: instancehub.StatusSucceeded},
			instancehub.InstanceUpdate{State: instancehub.StateRunning, PrivateIP: "10.0.0.4", PublicIP: "20.1.2.3"}},
		{"failed", instancehub.Operation{Status: instancehub.StatusFailed,
			ErrorCode: "OperationNotAllowed", ErrorMessage: "Operation could not be completed as it results in exceeding approved standardNCFamily Cores quota."},
			instancehub.InstanceUpdate{State: instancehub.StateCreateFailed}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, clock := openTestDB(t)
			ctx := context.Background()
			ada := createUser(t, db, "ada@example.com", "Ada")
			inst, op := createInstance(t, db, "lab", ada)
			op.Step, op.ResumeToken = "virtual machine", "token"
			if err := db.SaveOperationProgress(ctx, op); err != nil {
				t.Fatal(err)
			}
			clock.Add(90 * time.Second)
			op.ResumeToken = "" // of no use once the operation ends

			op.Status, op.ErrorCode, op.ErrorMessage = tt.op.Status, tt.op.ErrorCode, tt.op.ErrorMessage
			if err := db.FinishOperation(ctx, op, tt.update); err != nil {
				t.Fatal(err)
			}
			got := findByID(t, db, inst.ID)
			if got.State != tt.update.State || got.PrivateIP != tt.update.PrivateIP ||
				got.PublicIP != tt.update.PublicIP || !got.UpdatedAt.Equal(clock.Now()) {
				t.Errorf("instance %s %q %q updated %v, want %+v at %v",
					got.State, got.PrivateIP, got.PublicIP, got.UpdatedAt, tt.update, clock.Now())
			}
			last := got.LastOperation
			if last.Status != tt.op.Status || last.ErrorCode != tt.op.ErrorCode || last.ErrorMessage != tt.op.ErrorMessage ||
				last.Step != "virtual machine" || last.ResumeToken != "" ||
				!last.StartedAt.Equal(start) || !last.FinishedAt.Equal(clock.Now()) || last.Duration(time.Time{}) != 90*time.Second {
				t.Errorf("operation recorded as %+v", last)
			}
			wantCode(t, db.FinishOperation(ctx, op, tt.update), instancehub.ECONFLICT)
			if pending, _ := db.PendingOperations(ctx); len(pending) != 0 {
				t.Errorf("still pending: %+v", pending)
			}
		})
	}
}

func TestFinishOperationRefused(t *testing.T) {
	db, _ := openTestDB(t)
	ctx := context.Background()
	ada := createUser(t, db, "ada@example.com", "Ada")
	inst, op := createInstance(t, db, "lab", ada)

	running := instancehub.InstanceUpdate{State: instancehub.StateRunning}
	op.Status = instancehub.StatusInProgress
	wantCode(t, db.FinishOperation(ctx, op, running), instancehub.EINTERNAL)
	unknown := &instancehub.Operation{ID: 999, Status: instancehub.StatusSucceeded}
	wantCode(t, db.FinishOperation(ctx, unknown, running), instancehub.ENOTFOUND)
	if got := findByID(t, db, inst.ID); got.State != instancehub.StateCreating {
		t.Errorf("a refused finish changed the instance to %s", got.State)
	}
}

func TestPendingOperations(t *testing.T) {
	db, clock := openTestDB(t)
	ctx := context.Background()
	ada := createUser(t, db, "ada@example.com", "Ada")
	a := runningInstance(t, db, "a", ada)
	b := runningInstance(t, db, "b", ada)
	c := runningInstance(t, db, "c", ada)

	clock.Add(time.Second)
	stopB := begin(t, db, b, instancehub.OpStop, ada)
	clock.Add(time.Second)
	restartA := begin(t, db, a, instancehub.OpRestart, ada)
	clock.Add(time.Second)
	finish(t, db, begin(t, db, c, instancehub.OpStop, ada), instancehub.StateStopped)
	clock.Add(time.Second)
	_, createD := createInstance(t, db, "d", ada)

	pending, err := db.PendingOperations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []*instancehub.Operation{stopB, restartA, createD}
	if len(pending) != len(want) {
		t.Fatalf("%d pending operations, want %d", len(pending), len(want))
	}
	for i, op := range pending {
		if op.ID != want[i].ID || op.InstanceName != want[i].InstanceName || op.UserName != "Ada" {
			t.Errorf("pending[%d] = %d on %s by %q, want %d on %s by Ada",
				i, op.ID, op.InstanceName, op.UserName, want[i].ID, want[i].InstanceName)
		}
	}
}

func TestFindOperations(t *testing.T) {
	db, clock := openTestDB(t)
	ctx := context.Background()
	ada := createUser(t, db, "ada@example.com", "Ada")
	inst := runningInstance(t, db, "lab", ada)
	clock.Add(time.Hour)
	finish(t, db, begin(t, db, inst, instancehub.OpStop, ada), instancehub.StateStopped)
	clock.Add(time.Hour)
	begin(t, db, inst, instancehub.OpStart, ada)
	runningInstance(t, db, "other", ada)

	tests := []struct {
		limit int
		want  []instancehub.OperationKind
	}{
		{0, []instancehub.OperationKind{instancehub.OpStart, instancehub.OpStop, instancehub.OpCreate}},
		{2, []instancehub.OperationKind{instancehub.OpStart, instancehub.OpStop}},
		{10, []instancehub.OperationKind{instancehub.OpStart, instancehub.OpStop, instancehub.OpCreate}},
	}
	for _, tt := range tests {
		ops, err := db.FindOperations(ctx, inst.ID, tt.limit)
		if err != nil {
			t.Fatal(err)
		}
		var kinds []instancehub.OperationKind
		for _, op := range ops {
			kinds = append(kinds, op.Kind)
			if op.InstanceID != inst.ID || op.InstanceName != "lab" {
				t.Errorf("operation %d of instance %d %q", op.ID, op.InstanceID, op.InstanceName)
			}
		}
		if fmt.Sprint(kinds) != fmt.Sprint(tt.want) {
			t.Errorf("limit %d: %v, want %v", tt.limit, kinds, tt.want)
		}
	}
	if ops, err := db.FindOperations(ctx, 999, 0); err != nil || len(ops) != 0 {
		t.Errorf("operations of no instance = %v, %v", ops, err)
	}
}

// TestBeginOperationStoresNewAppSecret: a Start's new application secret
// becomes the instance's with the operation, and a refused Start leaves
// the secret as it was.
func TestBeginOperationStoresNewAppSecret(t *testing.T) {
	db, _ := openTestDB(t)
	ctx := context.Background()
	ada := createUser(t, db, "ada@example.com", "Ada")
	inst := runningInstance(t, db, "lab", ada)
	before := findByID(t, db, inst.ID).AppSecret
	refused := &instancehub.Operation{InstanceID: inst.ID, Kind: instancehub.OpStart, Trigger: instancehub.TriggerUser, AppSecret: "refused-secret"}
	wantCode(t, db.BeginOperation(ctx, refused), instancehub.ECONFLICT) // it runs
	if got := findByID(t, db, inst.ID).AppSecret; got != before {
		t.Fatalf("a refused Start changed the secret to %q", got)
	}
	setState(t, db, inst, instancehub.StateStopped)
	op := &instancehub.Operation{InstanceID: inst.ID, Kind: instancehub.OpStart, Trigger: instancehub.TriggerUser, AppSecret: "the-new-secret"}
	if err := db.BeginOperation(ctx, op); err != nil {
		t.Fatal(err)
	}
	if got := findByID(t, db, inst.ID).AppSecret; got != "the-new-secret" {
		t.Errorf("secret after Start began = %q, want the new one", got)
	}
}

// TestOperationKeepsItsRequestID: the ID of the request that began an
// operation is kept with it, and read back with it and with its instance.
func TestOperationKeepsItsRequestID(t *testing.T) {
	db, _ := openTestDB(t)
	ctx := context.Background()
	ada := createUser(t, db, "ada@example.com", "Ada")
	inst := runningInstance(t, db, "lab", ada)
	op := &instancehub.Operation{InstanceID: inst.ID, Kind: instancehub.OpStop, Trigger: instancehub.TriggerUser,
		RequestID: "7f3c2a9e-4b1d-4e8a-9c6f-0d2e5b7a1c3e"}
	if err := db.BeginOperation(ctx, op); err != nil {
		t.Fatal(err)
	}
	got, err := db.FindOperation(ctx, op.ID)
	if err != nil || got.RequestID != op.RequestID {
		t.Fatalf("FindOperation: request %q, %v; want %q", got.RequestID, err, op.RequestID)
	}
	if last := findByID(t, db, inst.ID).LastOperation; last.RequestID != op.RequestID {
		t.Errorf("the instance's last operation: request %q, want %q", last.RequestID, op.RequestID)
	}
}
