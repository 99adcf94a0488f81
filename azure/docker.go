package azure

import (
	"fmt"
	"net/netip"
	"strings"
)

// DefaultDockerAddressPool is where Docker takes its networks on the VMs
// unless the operator names another range (Config.DockerAddressPool):
// Docker's own default bridge, 172.17.0.0/16, lies in 172.16.0.0/12, where
// many portals and networks are, and a VM then answers them over its
// bridge instead (RStudio becomes unreachable: a known issue of the Data
// Science VM). This range is private, rarely used by networks and away
// from the portal's own (sharedAddressSpace). An instance sends whatever
// is addressed to the pool to its containers, so neither the portal's
// range nor the instances' networks may overlap it; the doctor checks both.
const DefaultDockerAddressPool = "192.168.224.0/20"

// ParseDockerAddressPool reads a Docker address pool: IPv4, its network
// address, large enough for a /24 network at least (the bridge's).
func ParseDockerAddressPool(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil || !p.Addr().Is4() || p != p.Masked() || p.Bits() < 8 || p.Bits() > 24 {
		return netip.Prefix{}, fmt.Errorf("docker address pool %q is not an IPv4 network from /8 to /24, such as %s", s, DefaultDockerAddressPool)
	}
	return p, nil
}

// DockerAddressPool is the address range Docker uses on every VM the portal
// makes: its bridge (docker0) takes the first /24, the networks users make
// take further /24s of it. Nothing the VM must reach may lie in it.
func (c *Cloud) DockerAddressPool() netip.Prefix { return c.dockerPool }

// dockerNetworkFile is the script cloud-init runs to set Docker's pool.
const dockerNetworkFile = "/etc/instancehub/docker-network.py"

// dockerNetworkScript sets Docker's bridge and pools in pool, keeping what
// else /etc/docker/daemon.json says (the Data Science VM's GPU images name
// NVIDIA's runtime there), then restarts Docker, removing its bridge, which
// Docker would otherwise keep with its old address. Run again, it changes
// nothing. INSTANCEHUB_ROOT, unset on the VM, lets a test run it in a
// folder of its own.
func dockerNetworkScript(pool netip.Prefix) string {
	bridge := netip.PrefixFrom(pool.Addr().Next(), 24)
	return strings.NewReplacer(
		"@BRIDGE@", bridge.String(),
		"@POOL@", pool.String(),
	).Replace(dockerNetwork)
}

const dockerNetwork = `#!/usr/bin/env python3
# instancehub: Docker's addresses out of the networks the VM must reach.
import json
import os
import subprocess
import sys
import tempfile

path = os.environ.get("INSTANCEHUB_ROOT", "") + "/etc/docker/daemon.json"
want = {"bip": "@BRIDGE@", "default-address-pools": [{"base": "@POOL@", "size": 24}]}
try:
    with open(path) as f:
        config = json.load(f)
except FileNotFoundError:
    config = {}
except ValueError as e:
    sys.exit("%s is not JSON, left as it is: %s" % (path, e))
if not isinstance(config, dict):
    sys.exit("%s is not a JSON object, left as it is" % path)
if all(config.get(k) == v for k, v in want.items()):
    sys.exit(0)
config.update(want)
os.makedirs(os.path.dirname(path), exist_ok=True)
fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".daemon.json.")
with os.fdopen(fd, "w") as f:
    json.dump(config, f, indent=2)
    f.write("\n")
os.chmod(tmp, 0o644)
os.replace(tmp, path)
subprocess.run(["systemctl", "stop", "docker.service", "docker.socket"], check=False)
subprocess.run(["ip", "link", "delete", "docker0"], check=False, stderr=subprocess.DEVNULL)
subprocess.run(["systemctl", "start", "docker.service"], check=False)
`
