package store

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
)

// TestSpendTicket: a ticket is redeemed once, even by redemptions at the
// same moment (on PostgreSQL, from several connections, as from several
// portals); expired ones are forgotten.
func TestSpendTicket(t *testing.T) {
	db, _ := openTestDB(t)
	ctx := context.Background()
	expires := start.Add(30 * time.Second)
	var wg sync.WaitGroup
	var spent, refused atomic.Int32
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			switch err := db.SpendTicket(ctx, "ticket-1", expires, start); instancehub.ErrorCode(err) {
			case "":
				spent.Add(1)
			case instancehub.EUNAUTHORIZED:
				refused.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if spent.Load() != 1 || refused.Load() != 7 {
		t.Errorf("spent %d, refused %d; want 1 and 7", spent.Load(), refused.Load())
	}
	if err := db.SpendTicket(ctx, "ticket-2", start.Add(time.Minute), start.Add(31*time.Second)); err != nil {
		t.Fatal(err)
	}
	var kept int
	if err := db.rawQueryRow(ctx, `SELECT count(*) FROM spent_tickets`).Scan(&kept); err != nil || kept != 1 {
		t.Errorf("%d tickets kept after the first expired, want 1 (%v)", kept, err)
	}
}
