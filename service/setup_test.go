package service_test

import (
	"strings"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
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
