package azure

import (
	"context"
	"encoding/base64"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v8"
	"github.com/instancehub/instancehub"
)

var _ instancehub.SetupRunner = (*Cloud)(nil)

// An instance's setup scripts reach its VM as the application secret does:
// in the protected settings of the Custom Script extension, which Azure
// encrypts for the VM and never returns, never in customData. Azure runs one
// Custom Script extension per Linux VM, so a script is a new delivery of the
// same extension (secretExtensionName): the secret it delivered before stays
// in its file, and the next Start delivers it anew. The extension runs the
// wrapper below as root; the wrapper runs the script for at most its
// timeout, keeps its whole output on the VM (setupLogDir) and prints the
// output's tail on stdout and how the script ended on stderr, then exits 0,
// so that the extension, and so the VM, never reads as failed because an
// owner's script did. The portal reads both from the extension's instance
// view, as Azure ML does.

// setupLogDir is where the VM keeps each script's whole output.
const setupLogDir = "/var/log/instancehub"

// setupTail is how much of a script's output the wrapper prints: the
// extension's instance view keeps only the last 4 KiB of stdout.
const setupTail = 4000

// setupKill is how long a script stopped at its timeout has to end before
// it is killed.
const setupKill = 10 * time.Second

// SetupWrapper is the script the Custom Script extension runs as root on
// inst's VM to run its script of phase: the script inline (a file's path
// is refused: the VM has no owner's files to read it from), its arguments
// split on white space, the reference's variables, its timeout.
// resourceGroup and workspace are CI_RESOURCE_GROUP's and CI_WORKSPACE's.
// INSTANCEHUB_ROOT, unset on the VM, lets a test run it in a folder of its
// own.
func SetupWrapper(inst *instancehub.Instance, phase instancehub.SetupPhase, script *instancehub.SetupScript, resourceGroup, workspace string) (string, error) {
	if script.Path != "" {
		return "", instancehub.Errorf(instancehub.EUNAVAILABLE, "On Azure a setup script is given inline: the VM has no files folder to read %s from.", script.Path)
	}
	timeout := script.Timeout
	if timeout <= 0 {
		timeout = instancehub.DefaultSetupTimeout
	}
	var env, args []string
	for _, v := range instancehub.SetupEnvironment(inst, resourceGroup, workspace) {
		name, value, _ := strings.Cut(v, "=")
		env = append(env, name+"="+shellQuote(value))
	}
	for _, a := range strings.Fields(script.Arguments) {
		args = append(args, shellQuote(a))
	}
	return strings.NewReplacer(
		"@PHASE@", string(phase),
		"@NAME@", inst.Name,
		"@LOG_DIR@", setupLogDir,
		"@SCRIPT@", base64.StdEncoding.EncodeToString([]byte(script.Command)),
		"@ENV@", strings.Join(env, " "),
		"@ARGS@", strings.Join(args, " "),
		"@SECONDS@", strconv.Itoa(int(timeout/time.Second)),
		"@KILL@", strconv.Itoa(int(setupKill/time.Second)),
		"@TAIL@", strconv.Itoa(setupTail),
	).Replace(setupWrapper), nil
}

// shellQuote quotes s as one word of sh.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

const setupWrapper = `#!/bin/sh
# instancehub: the @PHASE@ script of @NAME@, from the portal.
set -u
root="${INSTANCEHUB_ROOT:-}"
umask 077
mkdir -p "$root/var/lib/instancehub" "$root@LOG_DIR@"
script="$root/var/lib/instancehub/@PHASE@-script.sh"
log="$root@LOG_DIR@/@PHASE@-script.log"
if ! printf '%s' '@SCRIPT@' | base64 -d >"$script"; then
	echo "instancehub-setup exit=-1 (the script could not be written on the VM)" >&2
	exit 0
fi
export @ENV@
export HOME="$root/root"
mkdir -p "$HOME"
cd "$HOME" || exit 1
umask 022
started=$(date +%s)
timeout --kill-after=@KILL@ @SECONDS@ /bin/bash "$script" @ARGS@ </dev/null >"$log" 2>&1
code=$?
took=$(( $(date +%s) - started ))
tail -c @TAIL@ "$log"
if [ "$code" -ne 0 ] && [ "$took" -ge @SECONDS@ ]; then
	echo "instancehub-setup exit=-1 timeout" >&2
else
	echo "instancehub-setup exit=$code" >&2
fi
exit 0
`

// setupEnd is the wrapper's last word on stderr.
var setupEnd = regexp.MustCompile(`(?m)^instancehub-setup exit=(-?[0-9]+)( timeout)?`)

// RunSetup runs inst's script of phase on its VM through the Custom Script
// extension, waits until Azure has run it, and reads how it went from the
// extension's instance view. The VM must be running. A failed script is a
// result; the error is for a script Azure could not run.
func (c *Cloud) RunSetup(ctx context.Context, inst *instancehub.Instance, phase instancehub.SetupPhase, script *instancehub.SetupScript) (*instancehub.SetupResult, error) {
	workspace := c.cfg.PortalID
	if workspace == "" {
		workspace = "instancehub"
	}
	wrapper, err := SetupWrapper(inst, phase, script, c.cfg.ResourceGroup, workspace)
	if err != nil {
		return nil, err
	}
	ext := c.customScript(inst, wrapper)
	doing := fmt.Sprintf("run the %s script on %s", phase, inst.Name)
	p, err := c.extensions.BeginCreateOrUpdate(ctx, c.cfg.ResourceGroup, inst.Name, secretExtensionName, ext, nil)
	if err != nil {
		return nil, cloudError(err, doing)
	}
	_, runErr := p.PollUntilDone(ctx, &runtime.PollUntilDoneOptions{Frequency: 5 * time.Second})
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	got, err := c.extensions.Get(ctx, c.cfg.ResourceGroup, inst.Name, secretExtensionName,
		&armcompute.VirtualMachineExtensionsClientGetOptions{Expand: to.Ptr("instanceView")})
	if err != nil {
		if runErr != nil {
			return nil, cloudError(runErr, doing)
		}
		return nil, cloudError(err, doing)
	}
	result := setupResultOf(phase, got.Properties)
	if runErr != nil && !result.Failed() {
		result.ExitCode = -1
		result.Log += "[instancehub: Azure could not run the script: " + instancehub.ErrorMessage(cloudError(runErr, doing)) + "]\n"
	}
	if result.TimedOut {
		result.Log += fmt.Sprintf("\n[instancehub: stopped after its timeout of %s]\n", script.Timeout)
	}
	return result, nil
}

// setupResultOf reads a script's run from the Custom Script extension's
// instance view: the wrapper's stdout (the output's tail) and, on its
// stderr, how the script ended. Linux's Custom Script 2.x puts them in its
// status's message ("[stdout]\n…\n[stderr]\n…"); Azure shows them as
// StdOut and StdErr substatuses too, which are read first. A view without
// the wrapper's last word is a script that did not run to its end.
func setupResultOf(phase instancehub.SetupPhase, p *armcompute.VirtualMachineExtensionProperties) *instancehub.SetupResult {
	var stdout, stderr, message string
	var found bool
	if p != nil && p.InstanceView != nil {
		for _, s := range p.InstanceView.Substatuses {
			switch code := deref(s.Code); {
			case strings.HasPrefix(code, "ComponentStatus/StdOut/"):
				stdout, found = deref(s.Message), true
			case strings.HasPrefix(code, "ComponentStatus/StdErr/"):
				stderr, found = deref(s.Message), true
			}
		}
		for _, s := range p.InstanceView.Statuses {
			if strings.HasPrefix(deref(s.Code), "ProvisioningState/") {
				message = deref(s.Message)
			}
		}
	}
	if !found {
		if _, rest, ok := strings.Cut(message, "[stdout]\n"); ok {
			stdout, stderr, _ = strings.Cut(rest, "\n[stderr]\n")
		}
	}
	result := &instancehub.SetupResult{Phase: phase, ExitCode: -1, Log: stdout}
	if m := setupEnd.FindStringSubmatch(stderr); m != nil {
		result.ExitCode, _ = strconv.Atoi(m[1])
		result.TimedOut = m[2] != ""
	} else {
		if strings.TrimSpace(stderr) != "" {
			result.Log += stderr
		}
		result.Log += "\n[instancehub: the VM did not report how the script ended"
		if message != "" && stdout == "" {
			result.Log += ": " + message
		}
		result.Log += "]\n"
	}
	if len(result.Log) > instancehub.MaxSetupLogLength {
		result.Log = result.Log[len(result.Log)-instancehub.MaxSetupLogLength:]
	}
	return result
}
