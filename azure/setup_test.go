package azure_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/azure"
	"github.com/instancehub/instancehub/azure/emulator"
)

// runWrapper runs a setup wrapper as the Custom Script extension runs it
// (sh, as root), in root, a folder standing for the VM's /.
func runWrapper(t *testing.T, root, script string) emulator.ScriptRun {
	t.Helper()
	var stdout, stderr strings.Builder
	cmd := exec.Command("sh", "-c", script)
	cmd.Env = append(os.Environ(), "INSTANCEHUB_ROOT="+root)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	run := emulator.ScriptRun{}
	if err := cmd.Run(); err != nil {
		run.ExitCode = cmd.ProcessState.ExitCode()
	}
	run.StdOut, run.StdErr = stdout.String(), stderr.String()
	return run
}

// TestSetupWrapper runs the wrapper the extension delivers: the script
// runs as root in root's home with the reference's variables and its
// arguments, each one word as given; its output is kept whole on the VM
// and its tail printed; how it ended is the wrapper's last word on stderr;
// the wrapper itself ends well whatever the script did; and a script is
// stopped at its timeout, with what it started.
func TestSetupWrapper(t *testing.T) {
	inst := instance("scripted", "Standard_DS1_v2", false)
	root := t.TempDir()
	script := &instancehub.SetupScript{
		Command:   "echo \"$CI_NAME $CI_LOCAL_UBUNTU_USER $CI_RESOURCE_GROUP $CI_WORKSPACE\"\nprintf '<%s>' \"$@\"; echo\necho made > made\necho oops >&2\nexit 7\n",
		Arguments: "one it's  $HOME",
		Timeout:   15 * time.Minute,
	}
	wrapper, err := azure.SetupWrapper(inst, instancehub.SetupCreation, script, "rg-lab", "team-portal")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(wrapper, "timeout --kill-after=10 900 ") {
		t.Errorf("the wrapper does not hold the script to its 15 minutes:\n%s", wrapper)
	}
	run := runWrapper(t, root, wrapper)
	if run.ExitCode != 0 {
		t.Fatalf("the wrapper failed (%d), which would fail the extension: %+v", run.ExitCode, run)
	}
	want := "scripted azureuser rg-lab team-portal\n<one><it's><$HOME>\noops\n"
	if run.StdOut != want {
		t.Errorf("stdout %q, want %q", run.StdOut, want)
	}
	if run.StdErr != "instancehub-setup exit=7\n" {
		t.Errorf("stderr %q, want the exit code alone", run.StdErr)
	}
	if b, err := os.ReadFile(filepath.Join(root, "root", "made")); err != nil || string(b) != "made\n" {
		t.Errorf("the file the script made in root's home: %q, %v", b, err)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "var/log/instancehub/creation-script.log")); string(b) != want {
		t.Errorf("the log kept on the VM: %q", b)
	}

	// A long output is printed by its tail; the log keeps it whole.
	long := &instancehub.SetupScript{Command: "seq 1 20000\n", Timeout: time.Minute}
	wrapper, _ = azure.SetupWrapper(inst, instancehub.SetupStartup, long, "rg-lab", "team-portal")
	run = runWrapper(t, root, wrapper)
	if len(run.StdOut) != 4000 || !strings.HasSuffix(run.StdOut, "\n19999\n20000\n") || run.StdErr != "instancehub-setup exit=0\n" {
		t.Errorf("a long output: %d bytes ending %q, stderr %q", len(run.StdOut), run.StdOut[max(0, len(run.StdOut)-20):], run.StdErr)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "var/log/instancehub/startup-script.log")); !strings.HasPrefix(string(b), "1\n2\n3\n") {
		t.Errorf("the log kept on the VM starts %q", b[:min(len(b), 10)])
	}

	// At its timeout the script is stopped, with what it started.
	pidFile := filepath.Join(root, "child")
	slow := &instancehub.SetupScript{Command: "sleep 300 & echo $! > " + pidFile + "\necho waiting\nwait\n", Timeout: 2 * time.Second}
	wrapper, _ = azure.SetupWrapper(inst, instancehub.SetupStartup, slow, "rg-lab", "team-portal")
	run = runWrapper(t, root, wrapper)
	if run.ExitCode != 0 || run.StdOut != "waiting\n" || run.StdErr != "instancehub-setup exit=-1 timeout\n" {
		t.Errorf("a script past its timeout: %+v", run)
	}
	pid, _ := os.ReadFile(pidFile)
	if alive(strings.TrimSpace(string(pid))) {
		t.Errorf("what the script started (pid %s) outlived its timeout", pid)
	}

	if _, err := azure.SetupWrapper(inst, instancehub.SetupStartup, &instancehub.SetupScript{Path: "scripts/start.sh"}, "rg", "ws"); instancehub.ErrorCode(err) != instancehub.EUNAVAILABLE {
		t.Errorf("a script by path on Azure: %v, want EUNAVAILABLE", err)
	}
}

// TestSetupThroughTheExtension runs an instance's scripts on its VM
// through the Custom Script extension of the emulator, which runs what it
// is sent as a VM would: the script arrives in the protected settings
// (never in customData, which holds neither it nor the secret), and the
// portal reads its output and exit code from the extension's instance
// view: a success, a failure with its log, and a timeout.
func TestSetupThroughTheExtension(t *testing.T) {
	root := t.TempDir()
	var mu sync.Mutex
	var sent []string
	c, emu := newCloud(t, emulator.Options{RunScript: func(vm, script string) emulator.ScriptRun {
		mu.Lock()
		sent = append(sent, script)
		mu.Unlock()
		if !strings.Contains(script, "instancehub-setup exit=") || vm != "scripted" {
			return emulator.ScriptRun{} // the secret's script: not run here
		}
		return runWrapper(t, root, script)
	}})
	inst := instance("scripted", "Standard_DS1_v2", false)
	if err := run(t, c, instancehub.OpCreate, inst); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	creation := &instancehub.SetupScript{Command: "echo \"made by $(id -u) for $CI_LOCAL_UBUNTU_USER\" | tee made\n", Timeout: 15 * time.Minute}
	got, err := c.RunSetup(ctx, inst, instancehub.SetupCreation, creation)
	if err != nil {
		t.Fatal(err)
	}
	if got.Failed() || got.TimedOut || !strings.HasPrefix(got.Log, "made by ") || got.Phase != instancehub.SetupCreation {
		t.Errorf("a script that succeeds: %+v", got)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "root", "made")); !strings.HasSuffix(string(b), " for azureuser\n") {
		t.Errorf("the script's file: %q", b)
	}
	mu.Lock()
	last := sent[len(sent)-1]
	mu.Unlock()
	want, _ := azure.SetupWrapper(inst, instancehub.SetupCreation, creation, "instancehub", "test-portal")
	if last != want {
		t.Errorf("the extension delivered\n%s\nwant the wrapper\n%s", last, want)
	}
	cloudInit, put := customData(t, emu, "scripted")
	for _, secret := range []string{inst.AppSecret, "made by"} {
		if strings.Contains(string(cloudInit), secret) || strings.Contains(string(put), secret) {
			t.Errorf("the VM's PUT or customData holds %q", secret)
		}
	}

	failing := &instancehub.SetupScript{Command: "echo '<b>installing</b>'\necho 'no such package' >&2\nexit 4\n", Timeout: 15 * time.Minute}
	got, err = c.RunSetup(ctx, inst, instancehub.SetupStartup, failing)
	if err != nil {
		t.Fatal(err)
	}
	if got.ExitCode != 4 || got.TimedOut || got.Log != "<b>installing</b>\nno such package\n" {
		t.Errorf("a failing script: %+v", got)
	}

	slow := &instancehub.SetupScript{Command: "echo started\nsleep 300\n", Timeout: 2 * time.Second}
	got, err = c.RunSetup(ctx, inst, instancehub.SetupStartup, slow)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Failed() || !got.TimedOut || !strings.HasPrefix(got.Log, "started\n") || !strings.Contains(got.Log, "stopped after its timeout") {
		t.Errorf("a script past its timeout: %+v", got)
	}

	// The VM stopped, Azure refuses the extension: no result, an error.
	if err := run(t, c, instancehub.OpStop, inst); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RunSetup(ctx, inst, instancehub.SetupStartup, creation); err == nil {
		t.Error("a script ran on a stopped VM")
	}
}

// alive tells whether the process pid runs: it exists and is not a zombie
// (which a container's first process may leave unreaped).
func alive(pid string) bool {
	stat, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return false
	}
	_, after, _ := strings.Cut(string(stat), ") ")
	return !strings.HasPrefix(after, "Z") && !strings.HasPrefix(after, "X")
}

// TestSetupExtensionBody: the PUT that delivers a script is the Custom
// Script extension, on the extension that delivers the secret (Azure runs
// one per Linux VM), with the wrapper in its protected settings only and
// the time alone in its public ones, so that every run is a new delivery;
// an extension whose view does not say how the script ended is a failed
// run that says so.
func TestSetupExtensionBody(t *testing.T) {
	clock := newTestClock()
	g := newGroup(t, clock)
	c, inst := groupCloud(t, g, clock), busyBox()
	script := &instancehub.SetupScript{Command: "pip install torch\n", Arguments: "--fast", Timeout: 30 * time.Minute}
	got, err := c.RunSetup(context.Background(), inst, instancehub.SetupStartup, script)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Failed() || !strings.Contains(got.Log, "did not report how the script ended") {
		t.Errorf("a view without the wrapper's last word: %+v", got)
	}
	g.mu.Lock()
	raw := g.resources["/subscriptions/sub-1/resourcegroups/rg-1/providers/microsoft.compute/virtualmachines/busy-box/extensions/instancehub-secret"]
	g.mu.Unlock()
	var ext struct {
		Properties struct {
			Publisher, Type, TypeHandlerVersion string
			Settings                            map[string]any
			ProtectedSettings                   map[string]string
		}
	}
	if err := json.Unmarshal(raw, &ext); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	p := ext.Properties
	if p.Publisher != "Microsoft.Azure.Extensions" || p.Type != "CustomScript" || p.TypeHandlerVersion != "2.1" {
		t.Errorf("extension %s/%s %s, want Microsoft.Azure.Extensions/CustomScript 2.1", p.Publisher, p.Type, p.TypeHandlerVersion)
	}
	if p.Settings["timestamp"] != float64(clock.Now().Unix()) || len(p.Settings) != 1 {
		t.Errorf("public settings %v, want the time alone", p.Settings)
	}
	sent, _ := base64.StdEncoding.DecodeString(p.ProtectedSettings["script"])
	want, _ := azure.SetupWrapper(inst, instancehub.SetupStartup, script, "rg-1", "instancehub")
	if string(sent) != want || len(p.ProtectedSettings) != 1 {
		t.Errorf("protected settings %v, want the wrapper alone", p.ProtectedSettings)
	}
	for _, part := range []string{
		base64.StdEncoding.EncodeToString([]byte(script.Command)), "'--fast'", "timeout --kill-after=10 1800 ",
		"CI_NAME='busy-box'", "CI_LOCAL_UBUNTU_USER='azureuser'", "CI_RESOURCE_GROUP='rg-1'", "CI_WORKSPACE='instancehub'",
	} {
		if !strings.Contains(string(sent), part) {
			t.Errorf("the wrapper lacks %q:\n%s", part, sent)
		}
	}
	if strings.Contains(string(raw), "pip install") {
		t.Error("the script is readable in the PUT outside the protected settings' encoding")
	}
}
