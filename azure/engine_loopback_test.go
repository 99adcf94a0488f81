package azure_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/engine"
)

// operations is just enough of the instance store for the engine to run
// one operation to its end against the loopback ARM server.
type operations struct {
	instancehub.InstanceStore
	finished chan *instancehub.Operation
}

func (o *operations) ClaimLapsedOperations(context.Context, string, time.Duration, bool) ([]int64, error) {
	return nil, nil
}
func (o *operations) RenewOperations(_ context.Context, _ string, ids []int64, _ time.Duration) ([]int64, error) {
	return ids, nil
}
func (o *operations) ReleaseOperations(context.Context, string) error { return nil }
func (o *operations) BeginOperation(_ context.Context, op *instancehub.Operation) error {
	op.ID = 1
	return nil
}
func (o *operations) CreateInstance(_ context.Context, inst *instancehub.Instance, op *instancehub.Operation) error {
	inst.ID, op.ID = 1, 1
	return nil
}
func (o *operations) SaveOperationProgress(context.Context, *instancehub.Operation) error {
	return nil
}
func (o *operations) FinishOperation(_ context.Context, op *instancehub.Operation, _ instancehub.InstanceUpdate) error {
	copied := *op
	o.finished <- &copied
	return nil
}

// runOperation runs one operation of kind on inst through the engine, with
// cloud as Azure, and returns it as finished.
func runOperation(t *testing.T, cloud instancehub.Cloud, inst *instancehub.Instance, kind instancehub.OperationKind) *instancehub.Operation {
	t.Helper()
	store := &operations{finished: make(chan *instancehub.Operation, 1)}
	e := &engine.Engine{Instances: store, Cloud: cloud, PollInterval: 20 * time.Millisecond}
	if err := e.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer e.Stop()
	var err error
	if kind == instancehub.OpCreate {
		_, err = e.Create(context.Background(), inst, instancehub.TriggerUser)
	} else {
		_, err = e.Submit(context.Background(), inst, kind, instancehub.TriggerUser)
	}
	if err != nil {
		t.Fatal(err)
	}
	select {
	case op := <-store.finished:
		return op
	case <-time.After(20 * time.Second):
		t.Fatal("the operation never finished")
		return nil
	}
}

// TestDeleteWaitsOutNICReservation: right after a VM fails or is deleted,
// Azure keeps its network interface reserved for 180 s and refuses to
// delete it (400 NicReservedForAnotherVm). The delete waits that out and
// goes on to the security group, instead of leaving both behind.
func TestDeleteWaitsOutNICReservation(t *testing.T) {
	var mu sync.Mutex
	nicDeletes, nsgDeletes := 0, 0
	tags := `"tags":{"instancehub-portal":"instancehub","instancehub-instance":"nic-box"}`
	server := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		path := r.URL.Path
		switch {
		case strings.HasSuffix(path, "/networkInterfaces/nic-box-nic") && r.Method == http.MethodGet:
			fmt.Fprintf(w, `{"name":"nic-box-nic",%s}`, tags)
		case strings.HasSuffix(path, "/networkInterfaces/nic-box-nic") && r.Method == http.MethodDelete:
			nicDeletes++
			if nicDeletes <= 3 {
				w.WriteHeader(http.StatusBadRequest)
				fmt.Fprint(w, `{"error":{"code":"NicReservedForAnotherVm","message":"Nic(s) in request is reserved for another Virtual Machine for 180 seconds."}}`)
				return
			}
			w.WriteHeader(http.StatusOK)
		case strings.HasSuffix(path, "/networkSecurityGroups/nic-box-nsg") && r.Method == http.MethodGet:
			fmt.Fprintf(w, `{"name":"nic-box-nsg",%s}`, tags)
		case strings.HasSuffix(path, "/networkSecurityGroups/nic-box-nsg") && r.Method == http.MethodDelete:
			nsgDeletes++
			w.WriteHeader(http.StatusOK)
		default:
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"error":{"code":"ResourceNotFound","message":"Not found."}}`)
		}
	}))
	defer server.Close()
	inst := &instancehub.Instance{ID: 1, Name: "nic-box", Region: "eastus", State: instancehub.StateCreateFailed}
	op := runOperation(t, loopbackCloud(t, &armServer{Server: server}), inst, instancehub.OpDelete)
	if op.Status != instancehub.StatusSucceeded {
		t.Fatalf("delete %s: %s %s", op.Status, op.ErrorCode, op.ErrorMessage)
	}
	mu.Lock()
	defer mu.Unlock()
	if nicDeletes != 4 || nsgDeletes != 1 {
		t.Errorf("%d NIC deletes, %d security group deletes; want the reserved NIC retried until free, then the group removed", nicDeletes, nsgDeletes)
	}
}

// TestEngineWaitsRetryAfter: the engine polls an operation when the
// operation's status says to (Retry-After), not at its own faster interval.
func TestEngineWaitsRetryAfter(t *testing.T) {
	var mu sync.Mutex
	var polls []time.Time
	server := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasSuffix(r.URL.Path, "/restart") && r.Method == http.MethodPost:
			w.Header().Set("Azure-AsyncOperation", "https://"+r.Host+"/subscriptions/sub-1/providers/Microsoft.Compute/locations/eastus/operations/op-9?api-version=2024-07-01")
			w.WriteHeader(http.StatusAccepted)
		case strings.HasSuffix(r.URL.Path, "/operations/op-9"):
			polls = append(polls, time.Now())
			w.Header().Set("Retry-After", "1")
			status := "InProgress"
			if len(polls) >= 3 {
				status = "Succeeded"
			}
			fmt.Fprintf(w, `{"status":%q}`, status)
		case strings.HasSuffix(r.URL.Path, "/virtualMachines/slow-box"):
			fmt.Fprint(w, `{"name":"slow-box","properties":{"instanceView":{"statuses":[{"code":"ProvisioningState/succeeded"},{"code":"PowerState/running"}]}}}`)
		default:
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"error":{"code":"ResourceNotFound","message":"Not found."}}`)
		}
	}))
	defer server.Close()
	inst := &instancehub.Instance{ID: 1, Name: "slow-box", Region: "eastus", State: instancehub.StateRunning}
	op := runOperation(t, loopbackCloud(t, &armServer{Server: server}), inst, instancehub.OpRestart)
	if op.Status != instancehub.StatusSucceeded {
		t.Fatalf("restart %s: %s", op.Status, op.ErrorMessage)
	}
	mu.Lock()
	defer mu.Unlock()
	for i := 1; i < len(polls); i++ {
		if gap := polls[i].Sub(polls[i-1]); gap < 900*time.Millisecond {
			t.Errorf("poll %d came %v after the one before, want the 1 s the operation asked for", i+1, gap)
		}
	}
}
