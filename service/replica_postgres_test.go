package service_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/azure/emulator"
	"github.com/instancehub/instancehub/internal/pgtest"
	"github.com/instancehub/instancehub/internal/testportal"
	"github.com/instancehub/instancehub/service"
	"github.com/instancehub/instancehub/store"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

// TestReplicasHoldWorkspaceLimit: 100 creates at once, spread over three
// replicas on one PostgreSQL database, against a workspace limit of ten
// instances' vCPUs: exactly ten are made, and the other 90 are refused for
// quota, whichever replica each reached.
func TestReplicasHoldWorkspaceLimit(t *testing.T) {
	plenty := map[string]int{emulator.TotalCores: 10000, "standardDSv2Family": 10000}
	opts := emulator.Options{Quota: map[string]map[string]int{"eastus": plenty, "westeurope": plenty, "southeastasia": plenty}}
	first := testportal.OpenPostgres(t, pgtest.NewDatabase(t), "r0", 3*time.Second, opts)
	replicas := []*testportal.Portal{first, first.Replica(t, "r1", 3*time.Second), first.Replica(t, "r2", 3*time.Second)}
	const limit = 10 * 4 // ten Standard_DS3_v2, 4 vCPUs each
	if err := first.DB.SetWorkspaceLimit(first.Ctx, "eastus", instancehub.TotalRegionalVCPUs, limit); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[string]int{}
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := replicas[i%len(replicas)]
			_, err := r.Service.CreateInstance(r.Ctx, testportal.Request(fmt.Sprintf("race%03d", i)))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				codes["made"]++
			case isQuotaRefusal(err):
				codes["quota"]++
			default:
				codes[err.Error()]++
			}
		}()
	}
	wg.Wait()
	if codes["made"] != 10 || codes["quota"] != 90 {
		t.Fatalf("outcomes = %v, want 10 made and 90 refused for quota", codes)
	}
	usage, err := first.DB.WorkspaceUsage(first.Ctx, "eastus")
	if err != nil {
		t.Fatal(err)
	}
	if used := usage.Used[instancehub.TotalRegionalVCPUs]; used > limit {
		t.Errorf("%d vCPUs held, over the limit of %d", used, limit)
	}
	for i := range 100 {
		if inst, err := first.DB.FindInstanceByName(first.Ctx, fmt.Sprintf("race%03d", i)); err == nil {
			first.WaitState(t, inst.Name, instancehub.StateRunning)
		}
	}
}

// isQuotaRefusal reports whether err refuses a create for quota: the
// form's message next to the size, or the store's admission.
func isQuotaRefusal(err error) bool {
	var e *instancehub.Error
	if !errors.As(err, &e) {
		return false
	}
	return e.Code == instancehub.EQUOTA || strings.Contains(e.Fields["vm_size"], "vCPUs requested")
}

// TestFirstUserOnceAmongPortalsStartingTogether: portals started at the
// same moment on one empty database each try to make the first account;
// one makes it, and the others start without an error (they once failed
// on the duplicate email), on SQLite's file as on PostgreSQL.
func TestFirstUserOnceAmongPortalsStartingTogether(t *testing.T) {
	ctx := context.Background()
	sqlite, err := store.Open(ctx, filepath.Join(t.TempDir(), "instancehub.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer sqlite.Close()
	postgres, err := store.OpenPostgres(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer postgres.Close()
	for _, db := range []*store.DB{sqlite, postgres} {
		var wg sync.WaitGroup
		var made, failed atomic.Int32
		for range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s := service.New(service.Config{Store: db})
				user, _, err := s.EnsureFirstUser(ctx, "first@example.com", "")
				if err != nil {
					t.Error(err)
					failed.Add(1)
				} else if user != nil {
					made.Add(1)
				}
			}()
		}
		wg.Wait()
		u, err := db.FindUserByEmail(ctx, "first@example.com")
		if made.Load() != 1 || failed.Load() != 0 || err != nil {
			t.Fatalf("made %d, failed %d; user %v, %v", made.Load(), failed.Load(), u, err)
		}
		if roles, err := db.UserRoles(ctx, u.ID); err != nil || len(roles) != 1 || roles[0] != instancehub.RoleOwner {
			t.Errorf("roles = %v, %v", roles, err)
		}
	}
}
