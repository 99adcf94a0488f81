package azure_test

import (
	"encoding/json"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/azure"
	"github.com/instancehub/instancehub/azure/emulator"
	"go.yaml.in/yaml/v3"
)

// dockerVM is a VM's Docker configuration as the script cloud-init writes
// sets it: the script, taken from the rendered cloud-init, runs with Python
// in a folder standing for the VM's root, systemctl and ip recording their
// calls.
type dockerVM struct {
	t            *testing.T
	script, root string
	calls        string
}

func newDockerVM(t *testing.T, c *azure.Cloud, emu *emulator.Emulator, name string) *dockerVM {
	t.Helper()
	if err := run(t, c, instancehub.OpCreate, instance(name, "Standard_DS1_v2", false)); err != nil {
		t.Fatal(err)
	}
	raw, _ := customData(t, emu, name)
	var cfg cloudConfig
	if err := yaml.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	files, modes := cfg.files()
	const path = "/etc/instancehub/docker-network.py"
	if files[path] == "" || modes[path] != "0755" {
		t.Fatalf("cloud-init writes no script for Docker's network (mode %q)", modes[path])
	}
	// It runs before RStudio's unit starts, so that its container is made
	// on the new bridge.
	cmds := flatten(cfg.RunCmd)
	at, rstudio := slices.Index(cmds, "python3 "+path), slices.IndexFunc(cmds, func(c string) bool { return strings.Contains(c, "instancehub-rstudio") })
	if at < 0 || rstudio < at {
		t.Fatalf("runcmd runs the script at %d, RStudio at %d: %q", at, rstudio, cmds)
	}
	vm := &dockerVM{t: t, root: t.TempDir(), script: filepath.Join(t.TempDir(), "docker-network.py")}
	write(t, vm.script, files[path])
	return vm
}

// run runs the script; it returns its error and output.
func (vm *dockerVM) run() (string, error) {
	vm.t.Helper()
	bin := vm.t.TempDir()
	log := filepath.Join(bin, "calls")
	for _, tool := range []string{"systemctl", "ip"} {
		write(vm.t, filepath.Join(bin, tool), "#!/bin/sh\necho \""+tool+" $*\" >>"+log+"\n")
		if err := os.Chmod(filepath.Join(bin, tool), 0o755); err != nil {
			vm.t.Fatal(err)
		}
	}
	cmd := exec.Command("python3", vm.script)
	cmd.Env = append(os.Environ(), "INSTANCEHUB_ROOT="+vm.root, "PATH="+bin+":"+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	calls, _ := os.ReadFile(log)
	vm.calls = string(calls)
	return string(out), err
}

func (vm *dockerVM) daemonJSON() string {
	b, _ := os.ReadFile(filepath.Join(vm.root, "etc/docker/daemon.json"))
	return string(b)
}

// TestDockerAddressPool: the VMs' Docker takes its bridge and networks from
// the pool, outside 172.16.0.0/12 where Docker's default bridge collides
// with portals, keeps what else its configuration says (NVIDIA's runtime on
// GPU images), restarts once with its bridge made anew, and is left alone
// when already set or when its configuration cannot be read.
func TestDockerAddressPool(t *testing.T) {
	c, emu := newCloud(t, emulator.Options{})
	pool := c.DockerAddressPool()
	if pool.String() != azure.DefaultDockerAddressPool || pool.Overlaps(netip.MustParsePrefix("172.16.0.0/12")) {
		t.Fatalf("pool %s", pool)
	}

	fresh := newDockerVM(t, c, emu, "docker-box")
	if out, err := fresh.run(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	var got struct {
		Bridge string `json:"bip"`
		Pools  []struct {
			Base string `json:"base"`
			Size int    `json:"size"`
		} `json:"default-address-pools"`
	}
	if err := json.Unmarshal([]byte(fresh.daemonJSON()), &got); err != nil {
		t.Fatalf("daemon.json: %v\n%s", err, fresh.daemonJSON())
	}
	bridge, err := netip.ParsePrefix(got.Bridge)
	if err != nil || !pool.Contains(bridge.Addr()) || bridge.Bits() != 24 || len(got.Pools) != 1 ||
		got.Pools[0].Base != pool.String() || got.Pools[0].Size != 24 {
		t.Errorf("daemon.json: %+v (%v), want the bridge and the networks in %s", got, err, pool)
	}
	if want := "systemctl stop docker.service docker.socket\nip link delete docker0\nsystemctl start docker.service\n"; fresh.calls != want {
		t.Errorf("calls:\n%s\nwant:\n%s", fresh.calls, want)
	}
	if out, err := fresh.run(); err != nil || fresh.calls != "" {
		t.Errorf("run again: %v %s, calls %q, want nothing done", err, out, fresh.calls)
	}

	gpu := newDockerVM(t, c, emu, "gpu-box")
	nvidia := `{"runtimes": {"nvidia": {"path": "nvidia-container-runtime", "runtimeArgs": []}}, "bip": "172.17.0.1/16"}`
	write(t, filepath.Join(gpu.root, "etc/docker/daemon.json"), nvidia)
	if out, err := gpu.run(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	var merged map[string]any
	if err := json.Unmarshal([]byte(gpu.daemonJSON()), &merged); err != nil || merged["runtimes"] == nil || merged["bip"] != got.Bridge {
		t.Errorf("GPU image's daemon.json: %s (%v), want NVIDIA's runtime kept and the bridge moved", gpu.daemonJSON(), err)
	}

	broken := newDockerVM(t, c, emu, "odd-box")
	write(t, filepath.Join(broken.root, "etc/docker/daemon.json"), "{not json")
	if out, err := broken.run(); err == nil || !strings.Contains(out, "is not JSON") || broken.daemonJSON() != "{not json" || broken.calls != "" {
		t.Errorf("unreadable daemon.json: %v %q, file %q, calls %q", err, out, broken.daemonJSON(), broken.calls)
	}
}

// TestDockerAddressPoolConfigured: an operator's pool is used, and one that
// cannot hold a /24 network, or is not an IPv4 network, is refused.
func TestDockerAddressPoolConfigured(t *testing.T) {
	emu, err := emulator.Open(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	cfg := azure.Config{SubscriptionID: emu.SubscriptionID(), ResourceGroup: emu.ResourceGroup(), Regions: emu.Regions()}
	for _, bad := range []string{"172.17.0.1/16", "10.1.0.0/25", "fd00::/64", "docker", "10.0.0.0/7"} {
		cfg.DockerAddressPool = bad
		if _, err := azure.New(cfg, emu.Credential(), emu.ClientOptions()); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("pool %q: %v, want refused", bad, err)
		}
	}
	cfg.DockerAddressPool = "100.64.0.0/16"
	c, err := azure.New(cfg, emu.Credential(), emu.ClientOptions())
	if err != nil || c.DockerAddressPool() != netip.MustParsePrefix("100.64.0.0/16") {
		t.Fatalf("%v %v", c, err)
	}
	vm := newDockerVM(t, c, emu, "pool-box")
	if out, err := vm.run(); err != nil || !strings.Contains(vm.daemonJSON(), `"bip": "100.64.0.1/24"`) || !strings.Contains(vm.daemonJSON(), `"base": "100.64.0.0/16"`) {
		t.Errorf("%v %s: %s", err, out, vm.daemonJSON())
	}
}
