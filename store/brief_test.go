package store

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
)

// TestBriefReadIsTheFullReadWithoutItsExtras: an InstanceFilter.Brief
// read gives every instance as the full read does, but for the fields it
// leaves out (its doc's list), which stay empty; on a first page, a later
// one (OFFSET) and one cut from the kept order, for each sort.
func TestBriefReadIsTheFullReadWithoutItsExtras(t *testing.T) {
	db, clock := openTestDB(t)
	db.orders.from = 4
	ctx := context.Background()
	ada := createUser(t, db, "ada@example.com", "Ada")
	bob := createUser(t, db, "bob@example.com", "Bob")
	for i := range 12 {
		owner := ada
		if i%3 == 0 {
			owner = bob
		}
		inst := newInstance(fmt.Sprintf("box-%02d", (i*5)%12), owner)
		inst.CreatedByID = ada.ID
		inst.PublicIP, inst.AppSecret, inst.Description = "20.1.2.3", "secret", "for the course"
		inst.Tags = map[string]string{"team": "data"}
		inst.Identity = instancehub.ManagedIdentity{SystemAssigned: true, UserAssigned: []string{"/subscriptions/s/id"}}
		inst.IdempotencyKey = fmt.Sprintf("key-%d", i)
		inst.Setup.Creation = &instancehub.SetupScript{Command: "echo hi", Timeout: time.Minute}
		inst.IdleShutdown = time.Duration(i%2) * time.Hour
		op := &instancehub.Operation{Trigger: instancehub.TriggerUser, UserID: owner.ID}
		if err := db.CreateInstance(ctx, inst, op); err != nil {
			t.Fatal(err)
		}
		switch i % 4 {
		case 0:
			finish(t, db, op, instancehub.StateRunning)
		case 1:
			op.Status, op.ErrorCode, op.ErrorMessage = instancehub.StatusFailed, "QuotaExceeded", "Not enough quota."
			if err := db.FinishOperation(ctx, op, instancehub.InstanceUpdate{State: instancehub.StateCreateFailed}); err != nil {
				t.Fatal(err)
			}
		case 2:
			finish(t, db, op, instancehub.StateRunning)
			begin(t, db, inst, instancehub.OpStop, owner)
		}
		clock.Add(time.Minute)
	}
	brief := func(full *instancehub.Instance) *instancehub.Instance {
		b := *full
		b.SSHPublicKey, b.SSHPort, b.VirtualNetwork, b.Subnet = "", 0, "", ""
		b.PrivateIP, b.PublicIP, b.AppSecret, b.OwnerEmail = "", "", "", ""
		b.UpdatedAt, b.Description, b.Tags = time.Time{}, "", nil
		b.Identity, b.IdempotencyKey, b.Setup = instancehub.ManagedIdentity{}, "", instancehub.SetupScripts{}
		return &b
	}
	check := func(what string, f instancehub.InstanceFilter) {
		t.Helper()
		full, total, err := db.findInstances(ctx, f, -1)
		if err != nil {
			t.Fatal(err)
		}
		f.Brief = true
		got, n, err := db.FindInstances(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if n != total || len(got) != len(full) {
			t.Fatalf("%s: %d of %d brief, %d of %d full", what, len(got), n, len(full), total)
		}
		for i := range full {
			if want := brief(full[i]); !reflect.DeepEqual(got[i], want) {
				t.Errorf("%s: brief read\n%+v\nwant\n%+v", what, got[i], want)
			}
		}
		if full[0].Tags == nil || full[0].SSHPublicKey == "" || full[0].Setup.Creation == nil {
			t.Fatalf("%s: the full read lacks what the brief one leaves out: %+v", what, full[0])
		}
	}
	for _, sort := range []instancehub.InstanceSort{instancehub.SortCreatedDesc, instancehub.SortNameAsc} {
		first := instancehub.InstanceFilter{Sort: sort, Limit: 4}
		later := instancehub.InstanceFilter{Sort: sort, Offset: 4, Limit: 4}
		check(string(sort)+" first page", first)
		check(string(sort)+" later page (OFFSET)", later)
		// The order is kept in the background after a first later page:
		// the next is cut from it.
		db.orders.builds.Wait()
		db.orders.mu.Lock()
		db.orders.next = time.Time{}
		db.orders.mu.Unlock()
		if _, _, ok, err := db.orderedPage(ctx, mustVersion(t, db), later); err != nil || !ok {
			t.Fatalf("%s: no kept order (%v)", sort, err)
		}
		check(string(sort)+" later page (kept order)", instancehub.InstanceFilter{Sort: sort, Offset: 8, Limit: 4})
	}
}

func mustVersion(t *testing.T, db *DB) int64 {
	t.Helper()
	v, err := db.version(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return v
}
