package store

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/instancehub/instancehub"
)

// orderedFrom is the first offset whose page is cut from the list's order
// kept in memory, once kept: before it, OFFSET walks few enough index
// entries (10 µs for 1,000).
const orderedFrom = 1000

// orderCPU is the most of one core that keeping orders takes: after a
// build of d, the next waits (1/orderCPU - 1) × d.
const orderCPU = 0.1

// orders keeps, at a data version, the IDs of the live instances an
// unsearched filter selects (everyone's, or one owner's), in the order of
// its sort. A later page walks its rows' offset in an index (OFFSET), so
// at 100,000 instances a page in the middle walked 50,000 entries: 3 ms of
// CPU, the most of a list page's. Cut from the kept order it joins its 50
// rows only. An order is built in the background (a walk of the whole
// index: 25 ms at 100,000) while pages are read as before, one at a time
// and at most a tenth of the time, so that a database committing every
// moment spends little on orders it cannot keep.
type orders struct {
	ids byVersion[instancehub.InstanceFilter, []int64]
	// from is orderedFrom; tests lower it.
	from     int
	mu       sync.Mutex
	building bool
	next     time.Time // no build starts before
	builds   sync.WaitGroup
}

// orderKey is the filter whose order a page is cut from: its owner and
// sort.
func orderKey(f instancehub.InstanceFilter) instancehub.InstanceFilter {
	return instancehub.InstanceFilter{OwnerID: f.OwnerID, Sort: instancehub.ParseInstanceSort(string(f.Sort))}
}

// orderedPage reads filter's page from the order kept at version, if one
// is, and else starts keeping one; ok reports whether it answered.
func (db *DB) orderedPage(ctx context.Context, version int64, filter instancehub.InstanceFilter) (page []*instancehub.Instance, total int, ok bool, err error) {
	if filter.Search != "" || filter.Offset < db.orders.from || filter.Limit <= 0 {
		return nil, 0, false, nil
	}
	key := orderKey(filter)
	all, kept := db.orders.ids.get(version, key)
	if !kept {
		db.keepOrder(version, key)
		return nil, 0, false, nil
	}
	if filter.Offset >= len(all) {
		return nil, len(all), true, nil
	}
	ids := all[filter.Offset:min(filter.Offset+filter.Limit, len(all))]
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	// The rows are looked up by ID and put in the order's order here: an
	// ORDER BY made SQLite walk the sort's index instead, testing each
	// row's ID against the list. The IDs were live at version; a row
	// deleted since is left out, its page being no longer current.
	rows, err := db.query(ctx, instanceSelectFor(filter)+` WHERE i.id IN (?`+strings.Repeat(`, ?`, len(ids)-1)+`)`, args...)
	if err != nil {
		return nil, 0, false, fmt.Errorf("find instances: %w", err)
	}
	found, err := scanInstanceRows(rows, !filter.Brief)
	if err != nil {
		return nil, 0, false, fmt.Errorf("find instances: %w", err)
	}
	byID := make(map[int64]*instancehub.Instance, len(found))
	for _, inst := range found {
		byID[inst.ID] = inst
	}
	page = make([]*instancehub.Instance, 0, len(ids))
	for _, id := range ids {
		if inst := byID[id]; inst != nil && inst.State != instancehub.StateDeleted {
			page = append(page, inst)
		}
	}
	return page, len(all), true, nil
}

// keepOrder builds key's order at version in the background, unless one
// is being built or the last build's pause is not over.
func (db *DB) keepOrder(version int64, key instancehub.InstanceFilter) {
	o := &db.orders
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.building || time.Now().Before(o.next) {
		return
	}
	o.building = true
	o.builds.Add(1)
	go func() {
		defer o.builds.Done()
		began := time.Now()
		ids, err := db.readOrder(context.Background(), key)
		if err == nil {
			o.ids.put(version, key, ids)
		}
		o.mu.Lock()
		defer o.mu.Unlock()
		o.building = false
		o.next = time.Now().Add(time.Duration(float64(time.Since(began)) * (1/orderCPU - 1)))
	}()
}

// readOrder reads the IDs of the live instances key selects, in its order.
func (db *DB) readOrder(ctx context.Context, key instancehub.InstanceFilter) ([]int64, error) {
	where, args := db.instanceWhere(key, "")
	ids, err := db.readIDs(ctx, `SELECT i.id FROM instances i WHERE `+where+` ORDER BY `+instanceOrders[key.Sort], args...)
	return ids, wrap(err, "order instances")
}
