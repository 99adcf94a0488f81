package azure

import (
	"bytes"
	"context"
	"encoding/json/jsontext"
	json "encoding/json/v2"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"

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
	// Anything after the page makes it none, as it does for the SDK.
	if _, err := dec.ReadToken(); err != io.EOF {
		if err == nil {
			err = errors.New("a value after the page")
		}
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
// them, in order. The next page is asked for while a page is decoded, when
// the page ends with its nextLink as ARM writes it: at 100,000 VMs a
// Refresh was the emulator's time for a page, then the portal's for the
// same page, a thousand times over.
func (c *Cloud) vmPages(ctx context.Context, each func(*listedVM) error) error {
	ctx = context.WithValue(ctx, runtime.CtxAPINameKey{}, listVMsAPI)
	endpoint := c.arm.Endpoint()
	first := runtime.JoinPaths(endpoint, "/subscriptions/"+url.PathEscape(c.cfg.SubscriptionID)+
		"/resourceGroups/"+url.PathEscape(c.cfg.ResourceGroup)+"/providers/Microsoft.Compute/virtualMachines")
	req, err := runtime.NewRequest(ctx, http.MethodGet, first)
	if err != nil {
		return fmt.Errorf("list virtual machines: %w", err)
	}
	req.Raw().URL.RawQuery = url.Values{"$expand": {"instanceView"}, "api-version": {computeAPIVersion}}.Encode()
	page := c.vmPage(req)
	for {
		if page.err != nil {
			return page.err
		}
		var ahead chan fetchedPage
		drop := func() {}
		link, found := tailNextLink(page.buf.Bytes())
		if found {
			actx, cancel := context.WithCancel(ctx)
			ahead = make(chan fetchedPage, 1)
			go func() { ahead <- c.vmPageAt(actx, link); cancel() }()
			drop = func() { cancel(); (<-ahead).release() }
		}
		next, err := eachListedVM(page.buf, each)
		page.release()
		if err != nil || next == "" || next != link {
			drop() // not the page to read next
			if err != nil {
				return fmt.Errorf("list virtual machines: %w", err)
			}
			if next == "" {
				return nil
			}
			page = c.vmPageAt(ctx, next)
			continue
		}
		page = <-ahead
	}
}

// fetchedPage is a page of the list read whole, or why it could not be.
type fetchedPage struct {
	buf *bytes.Buffer
	err error
}

// release gives the page's buffer back, once decoded.
func (p fetchedPage) release() {
	if p.buf != nil {
		p.buf.Reset()
		listPages.Put(p.buf)
	}
}

// listPages are the buffers pages of the list are read into: a page of 100
// VMs with their instance views is about 350 KB, a Refresh of 100,000 VMs
// reads 1,000 of them.
var listPages = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// vmPageAt reads the page of the list at link, a nextLink.
func (c *Cloud) vmPageAt(ctx context.Context, link string) fetchedPage {
	req, err := runtime.NewRequestForNextLink(ctx, http.MethodGet, c.arm.Endpoint(), link)
	if err != nil {
		return fetchedPage{err: fmt.Errorf("list virtual machines: %w", err)}
	}
	return c.vmPage(req)
}

// vmPage sends req, a request of a page of the list, and reads its answer
// whole into a buffer of listPages: the pipeline's own reading would grow
// a new one by doubling for every page.
func (c *Cloud) vmPage(req *policy.Request) fetchedPage {
	req.Raw().Header["Accept"] = []string{"application/json"}
	runtime.SkipBodyDownload(req)
	resp, err := c.arm.Pipeline().Do(req)
	if err != nil {
		return fetchedPage{err: cloudError(err, "list virtual machines")}
	}
	defer resp.Body.Close()
	if !runtime.HasStatusCode(resp, http.StatusOK) {
		return fetchedPage{err: cloudError(runtime.NewResponseError(resp), "list virtual machines")}
	}
	buf := listPages.Get().(*bytes.Buffer)
	if resp.ContentLength > 0 && resp.ContentLength < maxListPage {
		buf.Grow(int(resp.ContentLength))
	}
	if _, err := buf.ReadFrom(io.LimitReader(resp.Body, maxListPage+1)); err != nil {
		fetchedPage{buf: buf}.release()
		return fetchedPage{err: cloudError(err, "list virtual machines")}
	}
	if buf.Len() > maxListPage {
		fetchedPage{buf: buf}.release()
		return fetchedPage{err: fmt.Errorf("list virtual machines: a page of more than %d MB", maxListPage>>20)}
	}
	return fetchedPage{buf: buf}
}

// maxListPage bounds a page of the list read whole: 1,000 VMs with their
// instance views (ARM sends far fewer a page) are about 3.5 MB.
const maxListPage = 64 << 20

// tailNextLink returns the nextLink of a page whose last member it is, as
// ARM writes its pages ({"value":[...],"nextLink":"..."}), read from the
// page's end without decoding it; found is false for any other page, whose
// nextLink (if any) only its decoding finds. The page's decoding says
// whether it was right: the last member of an object is the nextLink read
// at its end, which the decoding takes (a duplicate's last wins).
func tailNextLink(page []byte) (link string, found bool) {
	trim := func(b []byte) []byte { return bytes.TrimRight(b, " \t\r\n") }
	b := trim(page)
	if !bytes.HasSuffix(b, []byte("}")) {
		return "", false
	}
	b = trim(b[:len(b)-1])
	if !bytes.HasSuffix(b, []byte(`"`)) {
		return "", false
	}
	// The value's opening quote: the last one before its closing quote
	// that no odd run of backslashes escapes.
	end, open := len(b), len(b)-1
	for {
		open = bytes.LastIndexByte(b[:open], '"')
		if open < 0 {
			return "", false
		}
		slashes := 0
		for open-slashes > 0 && b[open-slashes-1] == '\\' {
			slashes++
		}
		if slashes%2 == 0 {
			break
		}
	}
	value := b[open:end]
	b = trim(b[:open])
	if !bytes.HasSuffix(b, []byte(":")) {
		return "", false
	}
	b = trim(b[:len(b)-1])
	if !bytes.HasSuffix(b, []byte(`"nextLink"`)) {
		return "", false
	}
	b = trim(b[:len(b)-len(`"nextLink"`)])
	if !bytes.HasSuffix(b, []byte(",")) && !bytes.HasSuffix(b, []byte("{")) {
		return "", false
	}
	s, err := jsontext.AppendUnquote(nil, value)
	if err != nil || len(s) == 0 {
		return "", false
	}
	return string(s), true
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
