package store

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
)

// TestLaterPagesAreCutFromTheKeptOrder: past orderedFrom, a page is read as
// before (OFFSET) until the filter's whole order is kept at the data
// version, then cut from it; either way it is the page OFFSET reads, for
// every sort, everyone's and one owner's, to the end and past it; and a
// commit (a create, a delete) shows at once, the order being kept again.
func TestLaterPagesAreCutFromTheKeptOrder(t *testing.T) {
	db, clock := openTestDB(t)
	db.orders.from = 5
	ctx := context.Background()
	ada := createUser(t, db, "ada@example.com", "Ada")
	bob := createUser(t, db, "bob@example.com", "Bob")
	var made []*instancehub.Instance
	for i := range 40 {
		owner := ada
		if i%3 == 0 {
			owner = bob
		}
		// Names in mixed case and out of creation order; some created at
		// the same moment, which the ID orders.
		name := fmt.Sprintf("lab-%02d", (i*17)%40)
		if i%4 == 0 {
			name = fmt.Sprintf("Lab-%02d", (i*17)%40)
		}
		inst := runningInstance(t, db, name, owner)
		made = append(made, inst)
		if i%2 == 0 {
			clock.Add(time.Minute)
		}
	}

	// page is FindInstances' page, as names; want is OFFSET's.
	page := func(f instancehub.InstanceFilter) ([]string, int) {
		t.Helper()
		got, total, err := db.FindInstances(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		return names(got), total
	}
	want := func(f instancehub.InstanceFilter) ([]string, int) {
		t.Helper()
		got, total, err := db.findInstances(ctx, f, -1)
		if err != nil {
			t.Fatal(err)
		}
		return names(got), total
	}
	// kept waits for the order being built and reports whether f's is
	// kept at the current version; the pause after a build is left out.
	kept := func(f instancehub.InstanceFilter) bool {
		t.Helper()
		db.orders.builds.Wait()
		db.orders.mu.Lock()
		db.orders.next = time.Time{}
		db.orders.mu.Unlock()
		v, err := db.version(ctx)
		if err != nil {
			t.Fatal(err)
		}
		_, ok := db.orders.ids.get(v, orderKey(f))
		return ok
	}
	check := func(when string) {
		t.Helper()
		for _, owner := range []int64{0, ada.ID} {
			for _, sort := range []instancehub.InstanceSort{instancehub.SortCreatedDesc, instancehub.SortCreatedAsc, instancehub.SortNameAsc, instancehub.SortNameDesc} {
				for _, offset := range []int{0, 5, 7, 12, 25, 30, 45} {
					f := instancehub.InstanceFilter{OwnerID: owner, Sort: sort, Offset: offset, Limit: 10}
					wantNames, wantTotal := want(f)
					gotNames, gotTotal := page(f) // read as before; the order is kept meanwhile
					if offset >= 5 && !kept(f) {
						t.Fatalf("%s: %+v: no order kept after a later page", when, f)
					}
					f.Limit = 11 // not the page kept above: cut from the order
					cutNames, cutTotal := page(f)
					f.Limit = 10
					wantCut, _ := want(instancehub.InstanceFilter{OwnerID: owner, Sort: sort, Offset: offset, Limit: 11})
					if !slices.Equal(gotNames, wantNames) || gotTotal != wantTotal || !slices.Equal(cutNames, wantCut) || cutTotal != wantTotal {
						t.Fatalf("%s: %+v:\nread  %v (%d)\ncut   %v (%d)\nwant  %v, %v (%d)", when, f, gotNames, gotTotal, cutNames, cutTotal, wantNames, wantCut, wantTotal)
					}
				}
			}
		}
	}
	check("at first")
	runningInstance(t, db, "LAB-99", ada)
	check("after a create")
	setState(t, db, made[7], instancehub.StateDeleted)
	setState(t, db, made[20], instancehub.StateDeleted)
	check("after two deletes")

	// Searches are not cut from an order.
	f := instancehub.InstanceFilter{Search: "lab-1", Offset: 5, Limit: 3}
	gotNames, gotTotal := page(f)
	wantNames, wantTotal := want(f)
	if !slices.Equal(gotNames, wantNames) || gotTotal != wantTotal {
		t.Fatalf("a search's later page: %v (%d), want %v (%d)", gotNames, gotTotal, wantNames, wantTotal)
	}
}
