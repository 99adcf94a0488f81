package localapps

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// TestNoSandboxOutlivesAPortalKilledOutright kills a portal (this test
// binary, run again as one) with SIGKILL, which leaves it no chance to call
// Close: its sandbox, Jupyter and kernel included, must end all the same.
func TestNoSandboxOutlivesAPortalKilledOutright(t *testing.T) {
	jupyter := realJupyter(t)
	portal := exec.Command(os.Args[0], "-test.run=^TestHelperPortal$", "-test.v")
	portal.Env = append(os.Environ(), "LOCALAPPS_HELPER_PORTAL="+jupyter, "LOCALAPPS_HELPER_DATA="+t.TempDir())
	portal.Stderr = os.Stderr
	stdout, err := portal.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := portal.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = portal.Process.Kill(); _ = portal.Wait() })
	var ns string
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		if _, err := fmt.Sscanf(lines.Text(), "sandbox %s", &ns); err == nil {
			break
		}
	}
	if ns == "" {
		t.Fatal("the portal did not start a Jupyter")
	}
	if n := len(processesIn(ns)); n < 3 {
		t.Fatalf("%d processes in the sandbox, want bwrap's, Jupyter and its kernel", n)
	}

	if err := portal.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = portal.Wait()
	deadline := time.Now().Add(15 * time.Second)
	for len(processesIn(ns)) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("processes of the sandbox left 15 s after the portal died: %v", processesIn(ns))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestHelperPortal is the portal that TestNoSandboxOutlivesAPortalKilledOutright
// kills: it opens Jupyter with a kernel, says which sandbox, and waits.
func TestHelperPortal(t *testing.T) {
	jupyter := os.Getenv("LOCALAPPS_HELPER_PORTAL")
	if jupyter == "" {
		return // run only as the helper
	}
	s := New(Config{Jupyter: jupyter, DataDir: os.Getenv("LOCALAPPS_HELPER_DATA")})
	inst := running("vm1", 1)
	base := open(t, s, inst, jupyterApp)
	call(t, s, base, inst.AppSecret, "POST", "api/kernels", `{"name":"python3"}`)
	fmt.Println("sandbox", sandboxNamespace(t, s, inst.Name))
	time.Sleep(time.Minute)
}
