package localapps

import (
	"bufio"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestNoServerOutlivesAPortalKilledOutright kills a portal (this test
// binary, run again as one) with SIGKILL, which leaves it no chance to call
// Close: its Jupyter must end all the same.
func TestNoServerOutlivesAPortalKilledOutright(t *testing.T) {
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
	var pid int
	var base *url.URL
	var secret string
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		if _, err := fmt.Sscanf(lines.Text(), "jupyter %d %s %s", &pid, new(string), &secret); err == nil {
			base, _ = url.Parse(strings.Fields(lines.Text())[2])
			break
		}
	}
	if base == nil {
		t.Fatal("the portal did not start a Jupyter")
	}
	kernels := kernelsOf(pid)

	if err := portal.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = portal.Wait()
	for _, p := range append(kernels, pid) {
		waitGone(t, p)
	}
	if answers(base, secret) {
		t.Fatalf("%s still answers after the portal died", base.Host)
	}
}

// TestHelperPortal is the portal that TestNoServerOutlivesAPortalKilledOutright
// kills: it opens Jupyter with a kernel, says where, and waits.
func TestHelperPortal(t *testing.T) {
	jupyter := os.Getenv("LOCALAPPS_HELPER_PORTAL")
	if jupyter == "" {
		return // run only as the helper
	}
	s := New(Config{Jupyter: jupyter, DataDir: os.Getenv("LOCALAPPS_HELPER_DATA")})
	inst := running("vm1", 1)
	base := open(t, s, inst, jupyterApp)
	call(t, base, inst.AppSecret, "POST", "api/kernels", `{"name":"python3"}`)
	fmt.Println("jupyter", strconv.Itoa(serverPID(t, s, inst.Name)), base.String(), inst.AppSecret)
	time.Sleep(time.Minute)
}
