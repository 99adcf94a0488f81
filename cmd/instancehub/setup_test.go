//go:build linux

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSetupScriptsOffline drives setup scripts through the API (the CLI's
// create from an az ml file) on a whole offline portal, each running in
// its instance's sandbox as root: a creation script writes a file, a
// startup script appends a line on every start (the first at create), and
// a failing creation script leaves its instance SetupFailed, with its exit
// code and its log, escaped, on the details page.
func TestSetupScriptsOffline(t *testing.T) {
	realJupyter(t)
	const password = "the owner's long password"
	t.Setenv("INSTANCEHUB_ADMIN_PASSWORD", password)
	url, dir := startPortal(t)
	out, _, err := cli(t, "tokens", "create", "--data", dir, "--email", "owner@example.com", "--name", "setup test", "--expires", "7d")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("INSTANCEHUB_URL", url)
	t.Setenv("INSTANCEHUB_TOKEN", strings.TrimSpace(out))
	// The owner's files hold the startup script, as the workspace's file
	// share does in the reference; it appends there, since each Start
	// gives the instance a new secret, and so (for now) a new home.
	if err := os.MkdirAll(filepath.Join(dir, "notebooks", "1", "scripts"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notebooks", "1", "scripts", "start.sh"),
		[]byte("echo \"started $1 as $(whoami) on $CI_NAME\" >> /home/$CI_LOCAL_UBUNTU_USER/cloudfiles/code/starts.txt\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	spec := `name: setup-box
type: computeinstance
size: standard_ds1_v2
location: eastus
setup_scripts:
  creation_script:
    command: |
      echo "made by $(whoami)" > ~azureuser/made.txt
    timeout_minutes: 5
  startup_script: {path: scripts/start.sh, command: warm, timeout_minutes: 2}
`
	file := filepath.Join(t.TempDir(), "setup-box.yml")
	if err := os.WriteFile(file, []byte(spec), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, _, err := cli(t, "compute", "create", "--file", file, "--wait"); err != nil || !strings.Contains(out, "Create of setup-box succeeded") {
		t.Fatalf("create --wait: %q %v", out, err)
	}
	home := sandboxHome(t, dir, "setup-box")
	if b, err := os.ReadFile(filepath.Join(home, "made.txt")); err != nil || string(b) != "made by root\n" {
		t.Errorf("made.txt = %q, %v", b, err)
	}
	for _, step := range []string{"stop", "start"} {
		if out, _, err := cli(t, "compute", step, "setup-box", "--wait"); err != nil {
			t.Fatalf("%s: %q %v", step, out, err)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "notebooks", "1", "starts.txt")); string(b) != strings.Repeat("started warm as root on setup-box\n", 2) {
		t.Errorf("starts.txt = %q, want a line at create and one at the start", b)
	}
	shown, _, err := cli(t, "compute", "show", "setup-box", "--output", "yaml")
	if err != nil || !strings.Contains(shown, "setup_scripts:") || !strings.Contains(shown, "path: scripts/start.sh") {
		t.Errorf("show --output yaml: %q %v", shown, err)
	}

	// A startup script that fails leaves the started instance
	// UserSetupFailed, which may be stopped.
	if err := os.WriteFile(filepath.Join(dir, "notebooks", "1", "scripts", "start.sh"), []byte("echo no luck; exit 4\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, _, err := cli(t, "compute", "restart", "setup-box", "--wait"); err == nil || !strings.Contains(err.Error()+out, "exit code 4") {
		t.Errorf("restart with a failing startup script: %q %v", out, err)
	}
	if out, _, err := cli(t, "compute", "show", "setup-box", "--output", "json"); err != nil || !strings.Contains(out, `"state": "UserSetupFailed"`) {
		t.Errorf("show: %q %v", out, err)
	}
	if out, _, err := cli(t, "compute", "stop", "setup-box", "--wait"); err != nil {
		t.Errorf("stop of a UserSetupFailed instance: %q %v", out, err)
	}

	failing := filepath.Join(t.TempDir(), "failing.yml")
	_ = os.WriteFile(failing, []byte("name: failing-box\ntype: computeinstance\nsize: standard_ds1_v2\nlocation: eastus\n"+
		"setup_scripts:\n  creation_script:\n    command: |\n      echo '<b>about to fail</b>'\n      exit 7\n"), 0o600)
	if out, _, err := cli(t, "compute", "create", "--file", failing); err != nil {
		t.Fatalf("create: %q %v", out, err)
	}
	var page string
	owner := newPerson(t, url)
	owner.signIn("owner@example.com", password)
	owner.waitState("failing-box", "Setup failed")
	_, page = owner.do("GET", url+"/instances/failing-box", nil)
	for _, want := range []string{"Setup log", `data-testid="setup-exit-code">7<`, "&lt;b&gt;about to fail&lt;/b&gt;", "The creation script failed with exit code 7."} {
		if !strings.Contains(page, want) {
			t.Errorf("the details page lacks %q", want)
		}
	}
	if strings.Contains(page, "<b>about to fail") {
		t.Error("the log is not escaped")
	}
	if out, _, err := cli(t, "compute", "show", "failing-box", "--output", "json"); err != nil || !strings.Contains(out, `"state": "SetupFailed"`) {
		t.Errorf("show: %q %v", out, err)
	}
	// SetupFailed allows Delete alone.
	if _, _, err := cli(t, "compute", "stop", "failing-box"); err == nil {
		t.Error("stop of a SetupFailed instance accepted")
	}
	if out, _, err := cli(t, "compute", "delete", "failing-box", "--wait"); err != nil {
		t.Errorf("delete: %q %v", out, err)
	}
}

// sandboxHome is the home of the live instance name's sandbox.
func sandboxHome(t *testing.T, data, name string) string {
	t.Helper()
	homes, _ := filepath.Glob(filepath.Join(data, "sandboxes", name+"-*", "home"))
	if len(homes) != 1 {
		t.Fatalf("homes of %s: %v", name, homes)
	}
	return homes[0]
}
