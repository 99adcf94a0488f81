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

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	azfake "github.com/Azure/azure-sdk-for-go/sdk/azcore/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/azure"
)

// armServer is just enough of Azure Resource Manager, on loopback TLS, to
// create one network security group the way ARM does: the first PUT is
// throttled (429 with Retry-After), the second is accepted with an
// Azure-AsyncOperation URL that reports InProgress twice, then Succeeded.
type armServer struct {
	*httptest.Server
	mu       sync.Mutex
	puts     int
	putTimes []time.Time
	polls    int
	created  bool
	// bodies holds the last body sent by method and path ("PUT /…"), as
	// subscription records them.
	bodies map[string]string
}

// lastBody is the last body sent to a path ending in suffix by method.
func (a *armServer) lastBody(method, suffix string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	for key, body := range a.bodies {
		if strings.HasPrefix(key, method+" ") && strings.HasSuffix(strings.ToLower(key), strings.ToLower(suffix)) {
			return body
		}
	}
	return ""
}

func newARMServer(t *testing.T) *armServer {
	a := &armServer{}
	a.Server = httptest.NewTLSServer(http.HandlerFunc(a.serve))
	t.Cleanup(a.Close)
	return a
}

func (a *armServer) serve(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("x-ms-ratelimit-remaining-subscription-reads", "42")
	path := r.URL.Path
	switch {
	case strings.HasSuffix(path, "/operations/op-1"):
		a.polls++
		status := "InProgress"
		if a.polls >= 3 {
			status, a.created = "Succeeded", true
		}
		fmt.Fprintf(w, `{"status":%q}`, status)
	case strings.Contains(path, "/networkSecurityGroups/") && r.Method == http.MethodPut:
		a.puts++
		a.putTimes = append(a.putTimes, time.Now())
		if a.puts == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprint(w, `{"error":{"code":"TooManyRequests","message":"The request is being throttled."}}`)
			return
		}
		w.Header().Set("Azure-AsyncOperation", a.URL+"/subscriptions/sub-1/providers/Microsoft.Network/locations/eastus/operations/op-1?api-version=2024-05-01")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, nsgJSON("Updating"))
	case strings.Contains(path, "/networkSecurityGroups/") && r.Method == http.MethodGet && a.created:
		fmt.Fprint(w, nsgJSON("Succeeded"))
	default:
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"error":{"code":"ResourceNotFound","message":"The Resource was not found."}}`)
	}
}

func nsgJSON(state string) string {
	return fmt.Sprintf(`{"id":"/subscriptions/sub-1/resourceGroups/rg-1/providers/Microsoft.Network/networkSecurityGroups/lb-box-nsg",`+
		`"name":"lb-box-nsg","location":"eastus","properties":{"provisioningState":%q}}`, state)
}

// loopbackCloud points the real clients at the server: the same code as
// against Azure, with the cloud configuration naming the server's endpoint.
func loopbackCloud(t *testing.T, a *armServer, retry ...policy.RetryOptions) *azure.Cloud {
	t.Helper()
	opts := loopbackOptions(a)
	if len(retry) > 0 {
		opts.Retry = retry[0]
	}
	c, err := azure.New(azure.Config{SubscriptionID: "sub-1", ResourceGroup: "rg-1", Regions: []string{"eastus"}, RStudioImage: pinnedRStudio}, &azfake.TokenCredential{}, opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// pinnedRStudio is an RStudio image pinned by digest, which the portal
// reads from no registry: for the loopback ARMs, which are no registry.
const pinnedRStudio = "ghcr.io/azure/rocker-rstudio-ml-verse@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// loopbackOptions name the server as Azure Resource Manager's endpoint.
func loopbackOptions(a *armServer) *arm.ClientOptions {
	return &arm.ClientOptions{ClientOptions: azcore.ClientOptions{
		Cloud: cloud.Configuration{
			ActiveDirectoryAuthorityHost: "https://login.invalid/",
			Services: map[cloud.ServiceName]cloud.ServiceConfiguration{
				cloud.ResourceManager: {Endpoint: a.URL, Audience: "https://management.azure.com"},
			},
		},
		Transport: a.Client(),
	}}
}

// TestThrottlingAndAsyncOperation proves, over real HTTP and TLS, that a
// 429 with Retry-After is retried after the time ARM asks, and that a long
// operation is polled through its Azure-AsyncOperation header to the end —
// from a resume token, in a Cloud that did not start it.
func TestThrottlingAndAsyncOperation(t *testing.T) {
	a := newARMServer(t)
	inst := &instancehub.Instance{Name: "lb-box", Region: "eastus", VMSize: "Standard_DS1_v2", SSHPort: 22,
		VirtualNetwork: "vnet-1", Subnet: "default", OwnerEmail: "ada@example.com"}
	ctx := context.Background()
	c := loopbackCloud(t, a)
	token, err := c.BeginStep(ctx, instancehub.OpCreate, azure.StepSecurityGroup, inst)
	if err != nil {
		t.Fatal(err)
	}
	if token == "" {
		t.Fatal("the accepted PUT gave no resume token")
	}
	a.mu.Lock()
	puts, gap := a.puts, a.putTimes[len(a.putTimes)-1].Sub(a.putTimes[0])
	a.mu.Unlock()
	if puts != 2 || gap < 900*time.Millisecond {
		t.Errorf("%d PUTs, %v apart; want the throttled one retried after Retry-After (1 s)", puts, gap)
	}

	resumed := loopbackCloud(t, a) // as after a restart of the portal
	for i := 0; ; i++ {
		done, err := resumed.PollStep(ctx, instancehub.OpCreate, azure.StepSecurityGroup, inst, token)
		if err != nil {
			t.Fatal(err)
		}
		if done {
			break
		}
		if i > 10 {
			t.Fatal("the operation never finished")
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.polls != 3 {
		t.Errorf("%d polls of the Azure-AsyncOperation URL, want 3 (InProgress, InProgress, Succeeded)", a.polls)
	}
	if d := resumed.ReadBackoff(); d <= 0 {
		t.Errorf("read budget 42 left: backoff %v, want the sync to hold off", d)
	}
}

// TestThrottlingSurfaces: when ARM keeps refusing, the retries end and the
// step fails with a message saying Azure is throttling.
func TestThrottlingSurfaces(t *testing.T) {
	var mu sync.Mutex
	calls := 0
	server := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		mu.Unlock()
		w.Header().Set("Retry-After", "0")
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, `{"error":{"code":"TooManyRequests","message":"Rate limit exceeded."}}`)
	}))
	defer server.Close()
	// The portal's own retry policy waits up to a minute; a short one proves the same.
	c := loopbackCloud(t, &armServer{Server: server}, policy.RetryOptions{MaxRetries: 4, RetryDelay: 10 * time.Millisecond, MaxRetryDelay: 50 * time.Millisecond})
	err := c.VMs(context.Background(), func(instancehub.VM) {})
	if instancehub.ErrorCode(err) != instancehub.EUNAVAILABLE || !strings.Contains(instancehub.ErrorMessage(err), "throttling") {
		t.Fatalf("err = %v, want Azure's throttling surfaced", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if calls != 5 {
		t.Errorf("%d requests, want 1 and 4 retries", calls)
	}
}

// TestDoctorOnAzure runs the doctor against ARM answers of a subscription
// without the resource group, and with a role that lacks actions.
func TestDoctorOnAzure(t *testing.T) {
	missingGroup := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"error":{"code":"ResourceGroupNotFound","message":"Resource group 'rg-1' could not be found."}}`)
	}))
	defer missingGroup.Close()
	checks := loopbackCloud(t, &armServer{Server: missingGroup}).Doctor(context.Background(), false)
	last := checks[len(checks)-1]
	if len(checks) != 2 || last.Name != "resource group" || last.Status != "fail" || last.Fix != "az group create --name rg-1 --location eastus" {
		t.Errorf("checks = %+v", checks)
	}
}
