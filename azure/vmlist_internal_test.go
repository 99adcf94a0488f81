package azure

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v8"
	"github.com/instancehub/instancehub"
)

// sdkListed is what the sync read of a page of the group's list through
// armcompute's models, before it decoded the list itself: each VM not
// nil, with its name, whether this portal tagged it, its states when the
// page carried its instance view (viewed), and the page's nextLink.
func sdkListed(t *testing.T, c *Cloud, page []byte) (vms []instancehub.VM, viewed []bool, next string) {
	t.Helper()
	var res armcompute.VirtualMachineListResult
	if err := json.Unmarshal(page, &res); err != nil {
		t.Fatalf("the SDK refuses the page: %v", err)
	}
	for _, r := range res.Value {
		if r == nil {
			continue
		}
		vm := instancehub.VM{Name: deref(r.Name), Portals: c.portals(r.Tags)}
		seen := r.Properties != nil && r.Properties.InstanceView != nil
		if seen {
			vm.ProvisioningState, vm.PowerState = statuses(r.Properties.InstanceView.Statuses)
		}
		vms, viewed = append(vms, vm), append(viewed, seen)
	}
	return vms, viewed, deref(res.NextLink)
}

// ownListed is the same page read as the sync reads it now.
func ownListed(t *testing.T, c *Cloud, page []byte) (vms []instancehub.VM, viewed []bool, next string) {
	t.Helper()
	next, err := eachListedVM(bytes.NewReader(page), func(r *listedVM) error {
		vm, seen := c.listed(r)
		vms, viewed = append(vms, vm), append(viewed, seen)
		return nil
	})
	if err != nil {
		t.Fatalf("the sync refuses the page: %v", err)
	}
	return vms, viewed, next
}

// recordedVM is VirtualMachine_Get as Microsoft recorded it, with the
// instance view recorded for the same VM in its properties, as the list's
// $expand=instanceView carries it, and the portal's tag added to its tags.
func recordedVM(t *testing.T, portalID string) map[string]any {
	t.Helper()
	read := func(name string) map[string]any {
		b, err := os.ReadFile(filepath.Join("testdata/specs/specification/compute/resource-manager/Microsoft.Compute/Compute/stable/2026-04-01/examples/virtualMachineExamples", name))
		if err != nil {
			t.Fatal(err)
		}
		var ex struct {
			Responses map[string]struct{ Body map[string]any } `json:"responses"`
		}
		if err := json.Unmarshal(b, &ex); err != nil {
			t.Fatal(err)
		}
		return ex.Responses["200"].Body
	}
	vm := read("VirtualMachine_Get.json")
	vm["properties"].(map[string]any)["instanceView"] = read("VirtualMachine_Get_InstanceView.json")
	tags, _ := vm["tags"].(map[string]any)
	if tags == nil {
		tags = map[string]any{}
	}
	tags[TagPortal] = portalID
	vm["tags"] = tags
	return vm
}

// TestListedVMsReadAsTheSDKReadThem: the sync decodes each page of the
// group's list into the few fields it reads, and reads from each what it
// read through armcompute's whole models: the name, this portal's tag, the
// provisioning and power states, whether the view was there at all, in
// order, nulls skipped, and the next page's link. On Microsoft's recorded
// VM (with its recorded instance view) and on the answers that vary.
func TestListedVMsReadAsTheSDKReadThem(t *testing.T) {
	c := &Cloud{cfg: Config{PortalID: "portal-a"}}
	recorded, err := json.Marshal(recordedVM(t, "portal-a"))
	if err != nil {
		t.Fatal(err)
	}
	pages := map[string]string{
		"recorded":          `{"value":[` + string(recorded) + `],"nextLink":"https://management.azure.com/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/virtualMachines?api-version=2026-04-01&$skiptoken=x"}`,
		"recorded, no link": `{"value":[` + string(recorded) + `,` + string(recorded) + `]}`,
		"varied": `{"nextLink":null,"value":[
			null,
			{"name":"no-view","tags":{"instancehub-portal":"portal-a"},"properties":{"provisioningState":"Succeeded"}},
			{"name":"null-view","properties":{"instanceView":null}},
			{"name":"no-properties"},
			{"name":"other-portal","tags":{"instancehub-portal":"portal-b","x":"y"},"properties":{"instanceView":{"statuses":[{"code":"PowerState/running"}]}}},
			{"name":"null-tag","tags":{"instancehub-portal":null},"properties":{"instanceView":{"statuses":null}}},
			{"name":"null-tags","tags":null,"properties":{"instanceView":{}}},
			{"name":"failed","tags":{"a":"b","instancehub-portal":"portal-a","c":null},"properties":{"instanceView":{"statuses":[
				{"code":"ProvisioningState/failed/AllocationFailed","level":"Error","message":"no room","time":"2026-01-01T00:00:00Z"},
				{"code":"POWERSTATE/Deallocated","displayStatus":"VM deallocated"}]}}},
			{"name":"last-wins","properties":{"instanceView":{"statuses":[{"code":"PowerState/starting"},{"code":"PowerState/running"},{"code":null},{"level":"Info"}]}}},
			{"name":"Duplicate","name":"duplicate","tags":{"instancehub-portal":"portal-b","instancehub-portal":"portal-a"}},
			{"id":"/x","name":"extra","type":"Microsoft.Compute/virtualMachines","location":"eastus","zones":["1"],"plan":null,"resources":[{"name":"ext"}],
			 "properties":{"storageProfile":{"imageReference":{"publisher":"p"}},"instanceView":{"computerName":"c","statuses":[{"code":"ProvisioningState/succeeded"}],"disks":[{"name":"d"}]}}}
		]}`,
		"empty":      `{"value":[]}`,
		"null value": `{"value":null,"nextLink":""}`,
		"no value":   `{}`,
	}
	for name, page := range pages {
		t.Run(name, func(t *testing.T) {
			wantVMs, wantViewed, wantNext := sdkListed(t, c, []byte(page))
			gotVMs, gotViewed, gotNext := ownListed(t, c, []byte(page))
			if !slices.Equal(gotVMs, wantVMs) || !slices.Equal(gotViewed, wantViewed) || gotNext != wantNext {
				t.Errorf("read\n%+v %v %q\nthe SDK's models read\n%+v %v %q", gotVMs, gotViewed, gotNext, wantVMs, wantViewed, wantNext)
			}
		})
	}
	// The recorded VM, read as the portal reads it.
	vms, viewed, _ := ownListed(t, c, []byte(pages["recorded"]))
	want := instancehub.VM{Name: "myVM", Portals: true, ProvisioningState: "succeeded", PowerState: "running"}
	if len(vms) != 1 || vms[0] != want || !viewed[0] {
		t.Errorf("read the recorded VM as %+v (viewed %v), want %+v", vms, viewed, want)
	}
}

// TestListedVMsRefuseWhatIsNoList: a page that is not the list's JSON is
// an error, as it was through the SDK, not an empty list that would mark
// every instance Missing.
func TestListedVMsRefuseWhatIsNoList(t *testing.T) {
	for _, page := range []string{``, `[]`, `{"value":{}}`, `{"value":[{"name":1}]}`, `{"value":[{"tags":[]}]}`, `{"value":[`, `{"value":[]`, `{"value":[]}x`, `{"value":[]}{}`} {
		if _, err := eachListedVM(strings.NewReader(page), func(*listedVM) error { return nil }); err == nil {
			t.Errorf("%q: read without an error", page)
		}
	}
}

// FuzzTailNextLink: a nextLink read from a page's end is the one its
// decoding finds, whatever the page; a page it cannot be sure of is left
// to its decoding.
func FuzzTailNextLink(f *testing.F) {
	for _, page := range []string{
		`{"value":[{"name":"a"}],"nextLink":"https://management.azure.com/x?$skiptoken=a\u0026api-version=1"}`,
		`{"value":[{"name":"a","tags":{"nextLink":"no"}}]}`,
		`{"nextLink":"https://x/1","value":[]}`,
		`{"value":[],"nextLink":"https://x/1","nextLink":"https://x/2"}`,
		`{"value":[],"a":"\"nextLink\":\"x\"}"}`,
		`{"value":[],"nextLink":"a\\\"b"}`,
		`{"value":[],"nextLink":"a\\"}`,
		`{"value":[],"nextLink":null}`,
		` { "value" : [ ] , "nextLink" : "https://x/1" } `,
		`{"value":[],"x":{"nextLink":"https://x/1"}}`,
	} {
		f.Add([]byte(page))
	}
	f.Fuzz(func(t *testing.T, page []byte) {
		link, found := tailNextLink(page)
		if !found {
			return
		}
		next, err := eachListedVM(bytes.NewReader(page), func(*listedVM) error { return nil })
		if err == nil && next != link {
			t.Errorf("read %q from the end of %q, its decoding finds %q", link, page, next)
		}
	})
}

// TestTailNextLink: the link of a page as ARM writes it is read from its
// end; any page whose last member is not its link is not.
func TestTailNextLink(t *testing.T) {
	for page, want := range map[string]string{
		`{"value":[{"name":"a"}],"nextLink":"https://x/vms?$skiptoken=a\u0026api-version=1"}` + "\n": "https://x/vms?$skiptoken=a&api-version=1",
		` { "value" : [ ] ,` + "\n\t" + `"nextLink" : "https://x/1" } `:                              "https://x/1",
		`{"value":[],"nextLink":"a\\\"b"}`:                                                           `a\"b`,
		`{"value":[],"nextLink":"https://x/1","nextLink":"https://x/2"}`:                             "https://x/2",
		`{"nextLink":"https://x/1","value":[]}`:                                                      "",
		`{"value":[{"name":"a","tags":{"nextLink":"no"}}]}`:                                          "",
		`{"value":[],"a":"\"nextLink\":\"x\"}"}`:                                                     "",
		`{"value":[],"a":"x\",\"nextLink\":\"y"}`:                                                    "",
		`{"value":[],"nextLink":null}`:                                                               "",
		`{"value":[],"nextLink":""}`:                                                                 "",
		`{"value":[],"x":{"nextLink":"https://x/1"}}`:                                                "",
	} {
		link, found := tailNextLink([]byte(page))
		if link != want || found != (want != "") {
			t.Errorf("%s: read %q (%v), want %q", page, link, found, want)
		}
	}
}
