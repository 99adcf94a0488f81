package azure

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v8"
	"github.com/instancehub/instancehub"
)

// Every VM is made with managed boot diagnostics (no storage account of the
// portal's): Azure keeps what it prints to its serial console, where a
// start that failed before any application answered shows why. An Owner
// reads it on the instance's page (BootLog).

// bootDiagnostics turns on boot diagnostics in Azure's managed storage.
var bootDiagnostics = &armcompute.DiagnosticsProfile{BootDiagnostics: &armcompute.BootDiagnostics{Enabled: to.Ptr(true)}}

// BlobDownloadAPI names the request that downloads the serial log, as the
// Azure SDK's blob client names its download: the emulator answers it.
const BlobDownloadAPI = "BlobClient.Download"

// maxBootLogRead bounds what is read of a serial log, of which the portal
// keeps the end (instancehub.MaxBootLogBytes).
const maxBootLogRead = 16 << 20

// BootLog reads the end of the serial console log Azure keeps of inst's VM:
// Azure hands out a download address signed for a few minutes, which is read
// without the portal's token and shown to nobody.
func (c *Cloud) BootLog(ctx context.Context, inst *instancehub.Instance) (*instancehub.BootLog, error) {
	rg, name := c.cfg.ResourceGroup, inst.Name
	vm, err := c.vms.Get(ctx, rg, name, nil)
	if err != nil {
		return nil, cloudError(err, "read virtual machine "+name)
	}
	if p := vm.Properties; p == nil || p.DiagnosticsProfile == nil || p.DiagnosticsProfile.BootDiagnostics == nil ||
		p.DiagnosticsProfile.BootDiagnostics.Enabled == nil || !*p.DiagnosticsProfile.BootDiagnostics.Enabled {
		return nil, instancehub.Errorf(instancehub.EUNAVAILABLE,
			"Boot diagnostics are off on %s, which was made before the portal turned them on: Azure keeps no boot log of it.", name)
	}
	data, err := c.vms.RetrieveBootDiagnosticsData(ctx, rg, name,
		&armcompute.VirtualMachinesClientRetrieveBootDiagnosticsDataOptions{SasURIExpirationTimeInMinutes: to.Ptr[int32](5)})
	if err != nil {
		return nil, cloudError(err, "read the boot diagnostics of "+name)
	}
	address := deref(data.SerialConsoleLogBlobURI)
	if address == "" {
		return nil, instancehub.Errorf(instancehub.EUNAVAILABLE, "Azure keeps no boot log of %s yet: it has not booted.", name)
	}
	raw, truncated, err := c.download(ctx, name, address)
	if err != nil {
		return nil, err
	}
	return &instancehub.BootLog{Text: consoleText(raw), Truncated: truncated}, nil
}

// download reads the end of the boot log of name at address, a signed
// https address. Its errors never carry the address, whose signature reads
// the blob.
func (c *Cloud) download(ctx context.Context, name, address string) ([]byte, bool, error) {
	u, err := url.Parse(address)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, false, instancehub.Errorf(instancehub.EUNAVAILABLE, "Azure gave no https address of the boot log.")
	}
	req, err := runtime.NewRequest(context.WithValue(ctx, runtime.CtxAPINameKey{}, BlobDownloadAPI), http.MethodGet, address)
	if err != nil {
		return nil, false, instancehub.Errorf(instancehub.EUNAVAILABLE, "Azure gave a boot log address that cannot be read.")
	}
	runtime.SkipBodyDownload(req)
	resp, err := c.blobs.Do(req)
	if err != nil {
		return nil, false, &instancehub.Error{Code: instancehub.EUNAVAILABLE, Message: "The storage of the boot log could not be reached; try again."}
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return nil, false, instancehub.Errorf(instancehub.EUNAVAILABLE, "Azure keeps no boot log of %s yet: it has not booted.", name)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, false, instancehub.Errorf(instancehub.EUNAVAILABLE, "The storage of the boot log answered %d %s; try again.", resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBootLogRead))
	if err != nil {
		return nil, false, &instancehub.Error{Code: instancehub.EUNAVAILABLE, Message: "The boot log could not be read to its end; try again."}
	}
	if len(raw) <= instancehub.MaxBootLogBytes {
		return raw, false, nil
	}
	raw = raw[len(raw)-instancehub.MaxBootLogBytes:]
	if i := bytes.IndexByte(raw, '\n'); i >= 0 { // from a whole line
		raw = raw[i+1:]
	}
	return raw, true, nil
}

// terminalControls are what a serial console carries besides text: colour
// and cursor sequences, carriage returns and other control characters.
var terminalControls = regexp.MustCompile("\x1b\\[[0-9;?]*[ -/]*[@-~]|\x1b[@-Z\\\\-_]|[\x00-\x08\x0b-\x1f\x7f]")

// consoleText is a serial log as text to read: valid UTF-8, without its
// terminal's control sequences.
func consoleText(raw []byte) string {
	return terminalControls.ReplaceAllString(strings.ToValidUTF8(string(raw), string(utf8.RuneError)), "")
}

var _ instancehub.BootLogs = (*Cloud)(nil)
