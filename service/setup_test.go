package service_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/azure/emulator"
	"github.com/instancehub/instancehub/internal/testportal"
)

// TestSetupScriptsAreChecked: where scripts cannot run (a portal on
// Azure), a create with them is refused with a field error and makes
// nothing; where they run, each is checked (inline or a file inside the
// owner's files, a bounded timeout) and kept with its default timeout.
func TestSetupScriptsAreChecked(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0)
	req := testportal.Request("scripted")
	req.Setup.Creation = &instancehub.SetupScript{Command: "echo hi"}
	_, err := p.Service.CreateInstance(p.Ctx, req)
	if msg := instancehub.ErrorFields(err)["setup_scripts"]; !strings.Contains(msg, "cannot run setup scripts") {
		t.Errorf("without a runner: %v", err)
	}
	if _, err := p.Service.Instances.FindInstanceByName(p.Ctx, "scripted"); instancehub.ErrorCode(err) != instancehub.ENOTFOUND {
		t.Errorf("a refused create made %v", err)
	}

	p.Service.SetupScripts = true
	bad := testportal.Request("bad-scripts")
	bad.Setup = instancehub.SetupScripts{
		Creation: &instancehub.SetupScript{Path: "../../etc/passwd"},
		Startup:  &instancehub.SetupScript{Command: "echo", Timeout: 121 * time.Minute},
	}
	_, err = p.Service.CreateInstance(p.Ctx, bad)
	fields := instancehub.ErrorFields(err)
	if !strings.Contains(fields["creation_script.path"], "inside your files folder") || !strings.Contains(fields["startup_script.timeout_minutes"], "1 to 120") {
		t.Errorf("bad scripts: %v", fields)
	}
	inst, err := p.Service.CreateInstance(p.Ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if got := inst.Setup.Creation; got == nil || got.Command != "echo hi" || got.Timeout != instancehub.DefaultSetupTimeout {
		t.Errorf("kept %+v", got)
	}
}

// TestSetupScriptsOnAzure runs an instance's scripts through the Azure
// path: the engine hands them to the cloud, which delivers them to the VM
// through the Custom Script extension of the emulator, which runs them as
// a VM would (sh, in a folder standing for its /), and reads how they went
// from the extension's instance view. A creation script that succeeds,
// then a startup script that fails at the next Start (UserSetupFailed), and
// a creation script that fails (SetupFailed), each with its log and exit
// code; a script by path is refused, since the VM has no files folder.
func TestSetupScriptsOnAzure(t *testing.T) {
	dir, root := t.TempDir(), t.TempDir()
	p := testportal.OpenWith(t, dir, emulator.Options{Path: filepath.Join(dir, "emulator.db"),
		RunScript: func(vm, script string) emulator.ScriptRun {
			if !strings.Contains(script, "instancehub-setup exit=") {
				return emulator.ScriptRun{} // the application secret's
			}
			var stdout, stderr strings.Builder
			cmd := exec.Command("sh", "-c", script)
			cmd.Env = append(os.Environ(), "INSTANCEHUB_ROOT="+filepath.Join(root, vm))
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			run := emulator.ScriptRun{}
			if err := cmd.Run(); err != nil {
				run.ExitCode = cmd.ProcessState.ExitCode()
			}
			run.StdOut, run.StdErr = stdout.String(), stderr.String()
			return run
		}})
	p.Engine.Setup = p.Cloud
	p.Service.SetupScripts = true

	byPath := testportal.Request("by-path")
	byPath.Setup.Creation = &instancehub.SetupScript{Path: "scripts/setup.sh"}
	_, err := p.Service.CreateInstance(p.Ctx, byPath)
	if msg := instancehub.ErrorFields(err)["creation_script.path"]; !strings.Contains(msg, "inline") {
		t.Errorf("a script by path on Azure: %v", err)
	}

	req := testportal.Request("on-azure")
	req.Setup = instancehub.SetupScripts{
		Creation: &instancehub.SetupScript{Command: "echo \"made for $CI_LOCAL_UBUNTU_USER on $CI_NAME\" > /dev/stderr\ntouch made\n"},
		Startup:  &instancehub.SetupScript{Command: "echo start >> starts\n[ $(wc -l < starts) -lt 2 ] || { echo 'second start: <fails>'; exit 5; }\n"},
	}
	if _, err := p.Service.CreateInstance(p.Ctx, req); err != nil {
		t.Fatal(err)
	}
	p.WaitState(t, "on-azure", instancehub.StateRunning)
	d, err := p.Service.InstanceDetail(p.Ctx, "on-azure")
	if err != nil {
		t.Fatal(err)
	}
	if r := d.SetupRun; r == nil || r.Phase != instancehub.SetupStartup || r.ExitCode != 0 {
		t.Errorf("after create, the last run = %+v, want the startup script's success", r)
	}
	if _, err := os.Stat(filepath.Join(root, "on-azure", "root", "made")); err != nil {
		t.Errorf("the creation script's file: %v", err)
	}
	if _, err := p.Service.Act(p.Ctx, "on-azure", instancehub.OpStop); err != nil {
		t.Fatal(err)
	}
	p.WaitState(t, "on-azure", instancehub.StateStopped)
	if _, err := p.Service.Act(p.Ctx, "on-azure", instancehub.OpStart); err != nil {
		t.Fatal(err)
	}
	inst := p.WaitState(t, "on-azure", instancehub.StateUserSetupFailed)
	d, err = p.Service.InstanceDetail(p.Ctx, "on-azure")
	if err != nil {
		t.Fatal(err)
	}
	if r := d.SetupRun; r == nil || r.ExitCode != 5 || r.Log != "second start: <fails>\n" {
		t.Errorf("after the second start, the last run = %+v", r)
	}
	if op := inst.LastOperation; op == nil || op.Status != instancehub.StatusFailed || !strings.Contains(op.ErrorMessage, "exit code 5") {
		t.Errorf("the start's operation: %+v", op)
	}

	failing := testportal.Request("fails-on-azure")
	failing.Setup.Creation = &instancehub.SetupScript{Command: "echo 'apt-get: no such package' >&2\nexit 7\n"}
	if _, err := p.Service.CreateInstance(p.Ctx, failing); err != nil {
		t.Fatal(err)
	}
	p.WaitState(t, "fails-on-azure", instancehub.StateSetupFailed)
	d, err = p.Service.InstanceDetail(p.Ctx, "fails-on-azure")
	if err != nil {
		t.Fatal(err)
	}
	if r := d.SetupRun; r == nil || r.Phase != instancehub.SetupCreation || r.ExitCode != 7 || r.Log != "apt-get: no such package\n" {
		t.Errorf("a failed creation script: %+v", r)
	}
}
