package instancehub

import "testing"

// TestVSCodeDesktopURL: VS Code's Remote - SSH address of an instance, from
// its public address, else its private one, with brackets round IPv6; none
// without SSH, a key or an address.
func TestVSCodeDesktopURL(t *testing.T) {
	key := "ssh-ed25519 AAAA you@laptop"
	for _, c := range []struct {
		name string
		inst Instance
		want string
	}{
		{"public", Instance{SSHEnabled: true, SSHPublicKey: key, SSHPort: 22, PublicIP: "20.1.2.3", PrivateIP: "10.0.0.4"},
			"vscode://vscode-remote/ssh-remote+azureuser@20.1.2.3:22/home/azureuser"},
		{"private", Instance{SSHEnabled: true, SSHPublicKey: key, SSHPort: 50000, PrivateIP: "10.0.0.4"},
			"vscode://vscode-remote/ssh-remote+azureuser@10.0.0.4:50000/home/azureuser"},
		{"ipv6", Instance{SSHEnabled: true, SSHPublicKey: key, SSHPort: 22, PublicIP: "2001:db8::1"},
			"vscode://vscode-remote/ssh-remote+azureuser@[2001:db8::1]:22/home/azureuser"},
		{"no key", Instance{SSHEnabled: true, SSHPort: 22, PublicIP: "20.1.2.3"}, ""},
		{"no ssh", Instance{SSHPublicKey: key, SSHPort: 22, PublicIP: "20.1.2.3"}, ""},
		{"no address", Instance{SSHEnabled: true, SSHPublicKey: key, SSHPort: 22}, ""},
	} {
		if got := c.inst.VSCodeDesktopURL(); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}
