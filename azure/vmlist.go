package azure

import (
	"context"
	"encoding/json/jsontext"
	json "encoding/json/v2"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/instancehub/instancehub"
)

// The group's VM list, as the sync reads it. armcompute's pager decodes
// every VM of a page whole, each property a pointer in a model, through
// generated code that builds a map per object: at 10,000 VMs that took
// 70 % of a Refresh. The sync reads four things of a VM, so its list is
// asked for as armcompute asks for it (the same URL, API version, API name
// and the arm client's pipeline: authentication, retries, throttling and
// the budgets' policy stay the SDK's and the portal's), and each page is
// decoded a VM at a time into listedVM, the rest of each VM skipped.

// listVMsAPI is the API name the armcompute client gives the group's list:
// the SDK's tracing, and the emulator's fakes, know the request by it.
const listVMsAPI = "VirtualMachinesClient.NewListPager"

// computeAPIVersion is the Compute API version of armcompute v8 (go.mod),
// which the typed clients ask for.
const computeAPIVersion = "2026-04-01"

// listedVM is what the sync reads of a VM in the group's list: its name,
// this portal's tag, and its instance view's status codes (nil when the
// list left the view out).
type listedVM struct {
	Name       string     `json:"name"`
	Tags       portalTag  `json:"tags"`
	Properties properties `json:"properties"`
}

type properties struct {
	InstanceView *instanceView `json:"instanceView"`
}

type instanceView struct {
	Statuses []status `json:"statuses"`
}

type status struct {
	Code string `json:"code"`
}

// portalTag is the value of a VM's TagPortal tag; the other tags are
// skipped, not kept.
type portalTag struct{ value *string }

// UnmarshalJSONFrom implements json.UnmarshalerFrom.
func (t *portalTag) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	t.value = nil
	tok, err := dec.ReadToken()
	if err != nil {
		return err
	}
	switch tok.Kind() {
	case 'n':
		return nil
	case '{':
	default:
		return fmt.Errorf("tags: want an object, got %v", tok.Kind())
	}
	for dec.PeekKind() != '}' {
		key, err := dec.ReadToken()
		if err != nil {
			return err
		}
		if key.String() != TagPortal {
			if err := dec.SkipValue(); err != nil {
				return err
			}
			continue
		}
		var v *string
		if err := json.UnmarshalDecode(dec, &v); err != nil {
			return err
		}
		t.value = v
	}
	_, err = dec.ReadToken()
	return err
}

// listOptions decode as the SDK's generated models do: duplicate names are
// taken (the last wins) and invalid UTF-8 is let through, where
// encoding/json/v2 would refuse both.
var listOptions = json.JoinOptions(jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))

// eachListedVM calls each with every VM of a page of the list read from
// body, in order, and returns the page's nextLink. A null in the list is
// skipped, as the SDK's pager users skip nil VMs.
func eachListedVM(body io.Reader, each func(*listedVM) error) (next string, err error) {
	dec := jsontext.NewDecoder(body, listOptions)
	if tok, err := dec.ReadToken(); err != nil {
		return "", err
	} else if tok.Kind() != '{' {
		return "", fmt.Errorf("want an object, got %v", tok.Kind())
	}
	for dec.PeekKind() != '}' {
		key, err := dec.ReadToken()
		if err != nil {
			return "", err
		}
		switch key.String() {
		case "nextLink":
			var link *string
			if err := json.UnmarshalDecode(dec, &link, listOptions); err != nil {
				return "", err
			}
			next = deref(link)
		case "value":
			if err := eachInArray(dec, each); err != nil {
				return "", err
			}
		default:
			if err := dec.SkipValue(); err != nil {
				return "", err
			}
		}
	}
	if _, err := dec.ReadToken(); err != nil {
		return "", err
	}
	return next, nil
}

func eachInArray(dec *jsontext.Decoder, each func(*listedVM) error) error {
	tok, err := dec.ReadToken()
	if err != nil {
		return err
	}
	switch tok.Kind() {
	case 'n':
		return nil
	case '[':
	default:
		return fmt.Errorf("value: want an array, got %v", tok.Kind())
	}
	for dec.PeekKind() != ']' {
		if dec.PeekKind() == 'n' {
			if _, err := dec.ReadToken(); err != nil {
				return err
			}
			continue
		}
		var vm listedVM
		if err := json.UnmarshalDecode(dec, &vm, listOptions); err != nil {
			return err
		}
		if err := each(&vm); err != nil {
			return err
		}
	}
	_, err = dec.ReadToken()
	return err
}

// vmPages calls each with every VM the group's list holds, with its
// instance view ($expand=instanceView), a page at a time as ARM sends
// them.
func (c *Cloud) vmPages(ctx context.Context, each func(*listedVM) error) error {
	ctx = context.WithValue(ctx, runtime.CtxAPINameKey{}, listVMsAPI)
	endpoint := c.arm.Endpoint()
	first := runtime.JoinPaths(endpoint, "/subscriptions/"+url.PathEscape(c.cfg.SubscriptionID)+
		"/resourceGroups/"+url.PathEscape(c.cfg.ResourceGroup)+"/providers/Microsoft.Compute/virtualMachines")
	q := url.Values{"$expand": {"instanceView"}, "api-version": {computeAPIVersion}}
	next := ""
	for page := 0; page == 0 || next != ""; page++ {
		var req *policy.Request
		var err error
		if page == 0 {
			req, err = runtime.NewRequest(ctx, http.MethodGet, first)
			if err == nil {
				req.Raw().URL.RawQuery = q.Encode()
			}
		} else {
			req, err = runtime.NewRequestForNextLink(ctx, http.MethodGet, endpoint, next)
		}
		if err != nil {
			return fmt.Errorf("list virtual machines: %w", err)
		}
		req.Raw().Header["Accept"] = []string{"application/json"}
		// A page is decoded as it arrives, not read whole first (the
		// pipeline's default): at 100,000 VMs with their instance views a
		// Refresh read 350 MB of pages into buffers that grew by doubling,
		// 750 MB of garbage every sync interval.
		runtime.SkipBodyDownload(req)
		if next, err = c.vmPage(req, each); err != nil {
			return err
		}
	}
	return nil
}

// vmPage sends req, a request of a page of the list, and decodes its
// answer as it arrives.
func (c *Cloud) vmPage(req *policy.Request, each func(*listedVM) error) (next string, err error) {
	resp, err := c.arm.Pipeline().Do(req)
	if err != nil {
		return "", cloudError(err, "list virtual machines")
	}
	defer resp.Body.Close()
	if !runtime.HasStatusCode(resp, http.StatusOK) {
		return "", cloudError(runtime.NewResponseError(resp), "list virtual machines")
	}
	if next, err = eachListedVM(resp.Body, each); err != nil {
		return "", fmt.Errorf("list virtual machines: %w", err)
	}
	return next, nil
}

// vm is the VM the sync compares, with its state when the list carried
// its instance view; viewed is false when it did not.
func (c *Cloud) listed(r *listedVM) (vm instancehub.VM, viewed bool) {
	vm = instancehub.VM{Name: r.Name, Portals: deref(r.Tags.value) == c.cfg.PortalID}
	if iv := r.Properties.InstanceView; iv != nil {
		for _, s := range iv.Statuses {
			readStatus(s.Code, &vm.ProvisioningState, &vm.PowerState)
		}
		return vm, true
	}
	return vm, false
}
