package emulator

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	azfake "github.com/Azure/azure-sdk-for-go/sdk/azcore/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v8"
)

// Boot diagnostics: a VM made with them on keeps what it prints to its
// serial console. retrieveBootDiagnosticsData hands out download addresses
// signed for a while (120 minutes unless asked otherwise, as Azure's), and
// the emulator answers a download of them (BlobDownloadAPI) with the log of
// the VM's last boot, made up from the VM as the emulator knows it. The
// signatures live in memory: a restarted emulator has forgotten them.

// BlobDownloadAPI is the API name a download of a signed address carries,
// as the Azure SDK's blob client names its downloads.
const BlobDownloadAPI = "BlobClient.Download"

// bootBlobPath starts the path of the emulator's boot diagnostics blobs.
const bootBlobPath = "/emulator-boot-diagnostics/"

// baseURLKey carries, in a request's context, the scheme and host the
// client reached the emulator at, which the signed addresses name.
type baseURLKey struct{}

// signedBlob is a download address handed out: its VM and expiry.
type signedBlob struct {
	vm      string
	expires time.Time
}

func (e *Emulator) retrieveBootDiagnostics(ctx context.Context, name string, opts *armcompute.VirtualMachinesClientRetrieveBootDiagnosticsDataOptions) (azfake.Responder[armcompute.VirtualMachinesClientRetrieveBootDiagnosticsDataResponse], azfake.ErrorResponder) {
	minutes := int32(120)
	if opts != nil && opts.SasURIExpirationTimeInMinutes != nil {
		minutes = *opts.SasURIExpirationTimeInMinutes
	}
	var out armcompute.VirtualMachinesClientRetrieveBootDiagnosticsDataResponse
	err := e.withCloud(func(c *cloud, now time.Time) error {
		r := c.get(typeVM, name)
		if r == nil {
			return notFound(typeVM, name, c.ResourceGroup)
		}
		var vm armcompute.VirtualMachine
		if err := c.read(r, &vm); err != nil {
			return err
		}
		if d := vm.Properties.DiagnosticsProfile; d == nil || d.BootDiagnostics == nil || d.BootDiagnostics.Enabled == nil || !*d.BootDiagnostics.Enabled {
			// The emulator's wording: the portal reads the VM's profile first.
			return armErr(http.StatusConflict, "OperationNotAllowed", "Boot diagnostics are not enabled on the virtual machine '%s'.", name)
		}
		if minutes < 1 || minutes > 1440 {
			return armErr(http.StatusBadRequest, "InvalidParameter", "sasUriExpirationTimeInMinutes must be from 1 to 1440.")
		}
		base, _ := ctx.Value(baseURLKey{}).(string)
		sign := func(file string) *string {
			sig := rand.Text()
			e.blobMu.Lock()
			for old, b := range e.blobs {
				if !now.Before(b.expires) {
					delete(e.blobs, old)
				}
			}
			e.blobs[sig] = signedBlob{vm: r.Name, expires: now.Add(time.Duration(minutes) * time.Minute)}
			e.blobMu.Unlock()
			q := url.Values{"sv": {"2022-11-02"}, "sr": {"b"}, "sp": {"r"}, "se": {now.Add(time.Duration(minutes) * time.Minute).UTC().Format(time.RFC3339)}, "sig": {sig}}
			address := base + bootBlobPath + url.PathEscape(r.Name) + "/" + url.PathEscape(r.Name+"."+file) + "?" + q.Encode()
			return &address
		}
		out.ConsoleScreenshotBlobURI = sign("screenshot.bmp")
		out.SerialConsoleLogBlobURI = sign("serialconsole.log")
		return nil
	})
	return respond(out, err)
}

// downloadBlob answers the download of a signed address, as Azure Storage
// does: 403 AuthenticationFailed for a signature it did not hand out or one
// expired, 404 BlobNotFound for a log of a VM that never booted.
func (e *Emulator) downloadBlob(req *http.Request) (*http.Response, error) {
	storageError := func(status int, code string) (*http.Response, error) {
		resp := newResponse(req, status, []byte(`<?xml version="1.0" encoding="utf-8"?><Error><Code>`+code+`</Code></Error>`))
		resp.Header.Set("x-ms-error-code", code)
		return resp, nil
	}
	rest, ok := strings.CutPrefix(req.URL.Path, bootBlobPath)
	vmName, file, _ := strings.Cut(rest, "/")
	sig := req.URL.Query().Get("sig")
	e.blobMu.Lock()
	signed, known := e.blobs[sig]
	e.blobMu.Unlock()
	if !ok || req.Method != http.MethodGet || !known || subtle.ConstantTimeCompare([]byte(signed.vm), []byte(vmName)) != 1 || !e.opts.Now().Before(signed.expires) {
		return storageError(http.StatusForbidden, "AuthenticationFailed")
	}
	if !strings.HasSuffix(file, ".serialconsole.log") {
		return storageError(http.StatusNotFound, "BlobNotFound")
	}
	var log string
	err := e.withCloud(func(c *cloud, now time.Time) error {
		r := c.get(typeVM, vmName)
		if r == nil {
			return nil
		}
		var vm armcompute.VirtualMachine
		if err := c.read(r, &vm); err != nil {
			return err
		}
		log = c.serialLog(r, vm, now)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if log == "" {
		return storageError(http.StatusNotFound, "BlobNotFound")
	}
	resp := newResponse(req, http.StatusOK, []byte(log))
	resp.Header.Set("Content-Type", "application/octet-stream")
	resp.Header.Set("x-ms-blob-type", "AppendBlob")
	return resp, nil
}

// serialLog is the console of r's last boot, "" if it never booted: what
// Ubuntu prints on Azure, colours and carriage returns included, with the
// VM's own name, size and address.
func (c *cloud) serialLog(r *resource, vm armcompute.VirtualMachine, now time.Time) string {
	var booted time.Time
	for _, op := range r.Ops {
		if (op.Kind == kindPut || op.Kind == kindStart || op.Kind == kindRestart) && op.Fail == nil && op.Power == "running" &&
			!op.Due.After(now) && op.Due.After(booted) {
			booted = op.Due
		}
	}
	if booted.IsZero() {
		return ""
	}
	host := r.Name
	if p := vm.Properties; p != nil && p.OSProfile != nil && p.OSProfile.ComputerName != nil {
		host = *p.OSProfile.ComputerName
	}
	address := "-"
	if len(r.NICs) > 0 {
		if nic := c.Resources[r.NICs[0].Key]; nic != nil && len(nic.IPConfigs) > 0 {
			address = nic.IPConfigs[0].PrivateIP
		}
	}
	at := func(seconds float64) string {
		return booted.Add(time.Duration(seconds * float64(time.Second))).UTC().Format("Mon, 02 Jan 2006 15:04:05 +0000")
	}
	lines := []string{
		"[    0.000000] Linux version 6.8.0-1021-azure (buildd@lcy02-amd64-097) (x86_64-linux-gnu-gcc-12) #25~22.04.1-Ubuntu SMP",
		"[    0.000000] Command line: BOOT_IMAGE=/vmlinuz-6.8.0-1021-azure root=PARTUUID=" + fakeGUID("root/"+r.Name) + " ro console=tty1 console=ttyS0 earlyprintk=ttyS0",
		"[    0.000000] DMI: Microsoft Corporation Virtual Machine/Virtual Machine, BIOS Hyper-V UEFI Release v4.1 (" + r.Size + ")",
		"[    1.104622] hv_vmbus: Vmbus version:5.3",
		"[    2.980311] EXT4-fs (sda1): mounted filesystem with ordered data mode. Quota mode: none.",
		fmt.Sprintf("[    4.211906] cloud-init[612]: Cloud-init v. 24.4-0ubuntu1~22.04.1 running 'init' at %s. Up 4.21 seconds.", at(4.21)),
		fmt.Sprintf("[    4.380117] cloud-init[612]: ci-info: |  eth0  | True | %s | 255.255.255.0 | global |", address),
		"[\x1b[0;32m  OK  \x1b[0m] Started \x1b[0;1;39mdocker.service\x1b[0m - Docker Application Container Engine.",
		fmt.Sprintf("[   18.404551] cloud-init[1205]: Cloud-init v. 24.4-0ubuntu1~22.04.1 finished at %s. Datasource DataSourceAzure [seed=/dev/sr0].  Up 18.40 seconds", at(18.4)),
		"",
		"Ubuntu 22.04.5 LTS " + host + " ttyS0",
		"",
		host + " login: ",
	}
	return strings.Join(lines, "\r\n")
}
