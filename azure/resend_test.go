package azure_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v8"
	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/azure"
)

// TestResentVMPutKeepsWhatCannotChange: a create that resumes without a
// token sends the VM PUT again. Azure refuses to change the SSH keys or the
// image of a VM that exists (409 PropertyChangeNotAllowed), so the resent
// PUT must carry the throw-away key and the image version the first one
// did — here, after a newer image version came out in between.
func TestResentVMPutKeepsWhatCannotChange(t *testing.T) {
	const sealed = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFirstSealedKeyFromTheFirstPutxxxxxxxxxxxx instancehub-no-ssh"
	existing := `{"name":"ssh-off","location":"eastus","tags":{"instancehub-portal":"instancehub","instancehub-instance":"ssh-off"},` +
		`"properties":{"provisioningState":"Creating","storageProfile":{"imageReference":{"publisher":"microsoft-dsvm","offer":"ubuntu-2204","sku":"2204-gen2","version":"25.04.22","exactVersion":"25.04.22"}},` +
		`"osProfile":{"computerName":"ssh-off","adminUsername":"azureuser","linuxConfiguration":{"disablePasswordAuthentication":true,` +
		`"ssh":{"publicKeys":[{"path":"/home/azureuser/.ssh/authorized_keys","keyData":"` + sealed + `"}]}}}}}`
	var mu sync.Mutex
	var refusals []string
	puts := 0
	server := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasSuffix(r.URL.Path, "/virtualMachines/ssh-off") && r.Method == http.MethodGet:
			fmt.Fprint(w, existing)
		case strings.HasSuffix(r.URL.Path, "/networkInterfaces/ssh-off-nic") && r.Method == http.MethodGet:
			fmt.Fprint(w, `{"name":"ssh-off-nic","properties":{"ipConfigurations":[{"name":"ipconfig1","properties":{"privateIPAddress":"10.0.0.4"}}]}}`)
		case strings.HasSuffix(r.URL.Path, "/skus/2204-gen2/versions"):
			fmt.Fprint(w, `[{"name":"25.04.22","location":"eastus"},{"name":"25.06.01","location":"eastus"}]`)
		case strings.HasSuffix(r.URL.Path, "/virtualMachines/ssh-off") && r.Method == http.MethodPut:
			puts++
			body, _ := io.ReadAll(r.Body)
			var vm armcompute.VirtualMachine
			if err := json.Unmarshal(body, &vm); err != nil {
				t.Errorf("PUT body: %v", err)
			}
			if got := *vm.Properties.OSProfile.LinuxConfiguration.SSH.PublicKeys[0].KeyData; got != sealed {
				refusals = append(refusals, "linuxConfiguration.ssh.publicKeys")
			}
			if got := *vm.Properties.StorageProfile.ImageReference.Version; got != "25.04.22" {
				refusals = append(refusals, "imageReference ("+got+")")
			}
			if len(refusals) > 0 {
				w.WriteHeader(http.StatusConflict)
				fmt.Fprintf(w, `{"error":{"code":"PropertyChangeNotAllowed","message":"Changing property '%s' is not allowed."}}`, refusals[0])
				return
			}
			fmt.Fprint(w, existing)
		default:
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"error":{"code":"ResourceNotFound","message":"Not found."}}`)
		}
	}))
	defer server.Close()
	inst := &instancehub.Instance{Name: "ssh-off", Region: "eastus", VMSize: "Standard_DS1_v2", SSHPort: 22,
		VirtualNetwork: "vnet-1", Subnet: "default", OwnerEmail: "ada@example.com"}
	c := loopbackCloud(t, &armServer{Server: server})
	if _, err := c.BeginStep(context.Background(), instancehub.OpCreate, azure.StepVirtualMachine, inst); err != nil {
		t.Fatalf("resent VM PUT: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if puts != 1 || len(refusals) > 0 {
		t.Errorf("%d PUTs, changed %v; want one PUT changing nothing Azure forbids", puts, refusals)
	}
}
