package azure

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v8"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v9"
	"github.com/instancehub/instancehub"
	"golang.org/x/crypto/ssh"
)

// The tags on every resource the portal makes. Delete checks them, so the
// portal never removes what it did not make.
const (
	TagPortal   = "instancehub-portal"
	TagInstance = "instancehub-instance"
	TagOwner    = "instancehub-owner"
)

func nsgName(instance string) string      { return instance + "-nsg" }
func publicIPName(instance string) string { return instance + "-ip" }
func nicName(instance string) string      { return instance + "-nic" }
func osDiskName(instance string) string   { return instance + "-osdisk" }

func (c *Cloud) tags(inst *instancehub.Instance) map[string]*string {
	tags := map[string]*string{}
	// The instance's own tags go on every resource, for cost reports by
	// team or project; the portal's own are set last, so they always win.
	for k, v := range inst.Tags {
		tags[k] = to.Ptr(v)
	}
	tags[TagPortal] = to.Ptr(c.cfg.PortalID)
	tags[TagInstance] = to.Ptr(inst.Name)
	tags[TagOwner] = to.Ptr(inst.OwnerEmail)
	return tags
}

// vmIdentity is the managed identity the VM of inst gets; nil for none.
func vmIdentity(m instancehub.ManagedIdentity) *armcompute.VirtualMachineIdentity {
	if m.None() {
		return nil
	}
	id := &armcompute.VirtualMachineIdentity{Type: to.Ptr(armcompute.ResourceIdentityType(m.Type()))}
	if len(m.UserAssigned) > 0 {
		id.UserAssignedIdentities = map[string]*armcompute.UserAssignedIdentitiesValue{}
		for _, r := range m.UserAssigned {
			id.UserAssignedIdentities[r] = &armcompute.UserAssignedIdentitiesValue{}
		}
	}
	return id
}

// withRegistryIdentity adds the registry's identity, when one is
// configured, to the identities a VM gets: it pulls RStudio's image with it.
func (c *Cloud) withRegistryIdentity(m instancehub.ManagedIdentity) instancehub.ManagedIdentity {
	id := c.cfg.RegistryIdentity
	if id == "" || slices.ContainsFunc(m.UserAssigned, func(u string) bool { return strings.EqualFold(u, id) }) {
		return m
	}
	m.UserAssigned = append(slices.Clone(m.UserAssigned), id)
	return m
}

// ours reports whether tags mark a resource as made by this portal for inst.
func (c *Cloud) ours(tags map[string]*string, inst *instancehub.Instance) bool {
	return deref(tags[TagPortal]) == c.cfg.PortalID && strings.EqualFold(deref(tags[TagInstance]), inst.Name)
}

func (c *Cloud) resourceID(provider, kind, name string) string {
	return fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers/%s/%s/%s",
		c.cfg.SubscriptionID, c.cfg.ResourceGroup, provider, kind, name)
}

func (c *Cloud) subnetID(inst *instancehub.Instance) string {
	return c.networkID(inst.VirtualNetwork) + "/subnets/" + inst.Subnet
}

// securityGroup admits SSH only when the instance has it and an operator
// named where from, and the applications only from the portal's address
// range. Azure's default AllowVnetInBound rule (65000) would let every VM of
// the network, and of networks peered with it, reach every port: whatever a
// user starts, and JupyterHub on 8000 should disabling it fail. An explicit
// deny of everything from VirtualNetwork, under the allows, closes the VM to
// all else. (Azure's own traffic, 168.63.129.16, answers what the VM asks,
// which no inbound rule stops.)
func (c *Cloud) securityGroup(inst *instancehub.Instance) armnetwork.SecurityGroup {
	ssh := fmt.Sprint(inst.SSHPort)
	var rules []*armnetwork.SecurityRule
	if inst.SSHEnabled && c.cfg.SSHSourceRange != "" {
		rules = append(rules, inboundRule("allow-ssh", 100, armnetwork.SecurityRuleAccessAllow, c.cfg.SSHSourceRange, armnetwork.SecurityRuleProtocolTCP, ssh))
	}
	if c.cfg.AppSourceRange != "" {
		rules = append(rules, inboundRule("allow-portal-apps", 200, armnetwork.SecurityRuleAccessAllow, c.cfg.AppSourceRange, armnetwork.SecurityRuleProtocolTCP, portJupyter, portRStudio))
	}
	rules = append(rules, inboundRule("deny-network-inbound", 4000, armnetwork.SecurityRuleAccessDeny, "VirtualNetwork", armnetwork.SecurityRuleProtocolAsterisk, "*"))
	return armnetwork.SecurityGroup{
		Location:   to.Ptr(inst.Region),
		Tags:       c.tags(inst),
		Properties: &armnetwork.SecurityGroupPropertiesFormat{SecurityRules: rules},
	}
}

func inboundRule(name string, priority int32, access armnetwork.SecurityRuleAccess, source string, protocol armnetwork.SecurityRuleProtocol, ports ...string) *armnetwork.SecurityRule {
	rule := &armnetwork.SecurityRule{
		Name: to.Ptr(name),
		Properties: &armnetwork.SecurityRulePropertiesFormat{
			Priority:                 to.Ptr(priority),
			Direction:                to.Ptr(armnetwork.SecurityRuleDirectionInbound),
			Access:                   to.Ptr(access),
			Protocol:                 to.Ptr(protocol),
			SourceAddressPrefix:      to.Ptr(source),
			SourcePortRange:          to.Ptr("*"),
			DestinationAddressPrefix: to.Ptr("*"),
		},
	}
	// Azure takes "*" for every port as a range, not in a list of them.
	if len(ports) == 1 && ports[0] == "*" {
		rule.Properties.DestinationPortRange = to.Ptr("*")
	} else {
		rule.Properties.DestinationPortRanges = to.SliceOfPtrs(ports...)
	}
	return rule
}

func (c *Cloud) publicIP(inst *instancehub.Instance) armnetwork.PublicIPAddress {
	return armnetwork.PublicIPAddress{
		Location: to.Ptr(inst.Region),
		Tags:     c.tags(inst),
		SKU: &armnetwork.PublicIPAddressSKU{
			Name: to.Ptr(armnetwork.PublicIPAddressSKUNameStandard),
			Tier: to.Ptr(armnetwork.PublicIPAddressSKUTierRegional),
		},
		Properties: &armnetwork.PublicIPAddressPropertiesFormat{
			PublicIPAllocationMethod: to.Ptr(armnetwork.IPAllocationMethodStatic),
			PublicIPAddressVersion:   to.Ptr(armnetwork.IPVersionIPv4),
		},
	}
}

func (c *Cloud) networkInterface(inst *instancehub.Instance) armnetwork.Interface {
	ipConfig := &armnetwork.InterfaceIPConfigurationPropertiesFormat{
		Subnet:                    &armnetwork.Subnet{ID: to.Ptr(c.subnetID(inst))},
		PrivateIPAllocationMethod: to.Ptr(armnetwork.IPAllocationMethodDynamic),
		Primary:                   to.Ptr(true),
	}
	if pool := c.cfg.outboundPool(inst.Region); pool != "" {
		// The balancer's outbound rules are the instance's way out.
		ipConfig.LoadBalancerBackendAddressPools = []*armnetwork.BackendAddressPool{{ID: to.Ptr(pool)}}
	}
	if c.wantsPublicIP(inst) {
		ipConfig.PublicIPAddress = &armnetwork.PublicIPAddress{
			ID: to.Ptr(c.resourceID("Microsoft.Network", "publicIPAddresses", publicIPName(inst.Name))),
		}
	}
	return armnetwork.Interface{
		Location: to.Ptr(inst.Region),
		Tags:     c.tags(inst),
		Properties: &armnetwork.InterfacePropertiesFormat{
			NetworkSecurityGroup: &armnetwork.SecurityGroup{
				ID: to.Ptr(c.resourceID("Microsoft.Network", "networkSecurityGroups", nsgName(inst.Name))),
			},
			IPConfigurations: []*armnetwork.InterfaceIPConfiguration{{Name: to.Ptr("ipconfig1"), Properties: ipConfig}},
		},
	}
}

// virtualMachine is the workstation: Linux with SSH keys only, its OS disk
// deleted with it, cloud-init preparing the applications for the owner.
//
// The PUT is sent again when a create resumes without a token, and Azure
// refuses to change the SSH keys or the image of a VM that exists
// (PropertyChangeNotAllowed). So when the VM already exists (existing has a
// name), its key and image (and the image's marketplace plan, which a VM
// of a plan's image must carry, and its security profile: Trusted Launch
// is fixed at creation) are sent back as they are, rather than a new
// throw-away key and whatever "latest" resolves to now.
func (c *Cloud) virtualMachine(ctx context.Context, inst *instancehub.Instance, existing armcompute.VirtualMachine) (armcompute.VirtualMachine, error) {
	key, img := keyOf(existing), imageOf(existing)
	if key == "" && inst.SSHEnabled {
		key = inst.SSHPublicKey
	}
	if key == "" {
		// Azure wants a key when passwords are off; a key whose private half
		// nobody has keeps the instance closed to SSH.
		var err error
		if key, err = sealedKey(); err != nil {
			return armcompute.VirtualMachine{}, err
		}
	}
	plan, security := existing.Plan, c.cfg.securityProfile()
	if existing.Name != nil {
		// Azure changes neither of a VM that exists.
		security = nil
		if existing.Properties != nil {
			security = existing.Properties.SecurityProfile
		}
	}
	if img == (Image{}) {
		var err error
		if img, err = c.image(ctx, inst.Region); err != nil {
			return armcompute.VirtualMachine{}, err
		}
		if plan, err = c.imagePlan(ctx, inst.Region, img); err != nil {
			return armcompute.VirtualMachine{}, err
		}
	}
	address, err := c.nicAddress(ctx, inst)
	if err != nil {
		return armcompute.VirtualMachine{}, err
	}
	rstudio, err := c.rstudioImage(ctx)
	if err != nil {
		return armcompute.VirtualMachine{}, err
	}
	return armcompute.VirtualMachine{
		Location: to.Ptr(inst.Region),
		Tags:     c.tags(inst),
		Identity: vmIdentity(c.withRegistryIdentity(inst.Identity)),
		Plan:     plan,
		Properties: &armcompute.VirtualMachineProperties{
			HardwareProfile: &armcompute.HardwareProfile{VMSize: to.Ptr(armcompute.VirtualMachineSizeTypes(inst.VMSize))},
			SecurityProfile: security,
			StorageProfile: &armcompute.StorageProfile{
				ImageReference: &armcompute.ImageReference{
					Publisher: to.Ptr(img.Publisher), Offer: to.Ptr(img.Offer), SKU: to.Ptr(img.SKU), Version: to.Ptr(img.Version),
				},
				OSDisk: &armcompute.OSDisk{
					Name:         to.Ptr(osDiskName(inst.Name)),
					CreateOption: to.Ptr(armcompute.DiskCreateOptionTypesFromImage),
					DeleteOption: to.Ptr(armcompute.DiskDeleteOptionTypesDelete),
					DiskSizeGB:   to.Ptr(c.cfg.OSDiskSizeGB),
					ManagedDisk:  &armcompute.ManagedDiskParameters{StorageAccountType: to.Ptr(armcompute.StorageAccountTypes(c.cfg.OSDiskType))},
				},
			},
			OSProfile: &armcompute.OSProfile{
				ComputerName:  to.Ptr(inst.Name),
				AdminUsername: to.Ptr(instancehub.SSHUser),
				CustomData:    to.Ptr(base64.StdEncoding.EncodeToString([]byte(c.cloudInit(inst, address, rstudio)))),
				LinuxConfiguration: &armcompute.LinuxConfiguration{
					DisablePasswordAuthentication: to.Ptr(true),
					SSH: &armcompute.SSHConfiguration{PublicKeys: []*armcompute.SSHPublicKey{{
						Path:    to.Ptr("/home/" + instancehub.SSHUser + "/.ssh/authorized_keys"),
						KeyData: to.Ptr(key),
					}}},
				},
			},
			DiagnosticsProfile: bootDiagnostics,
			NetworkProfile: &armcompute.NetworkProfile{NetworkInterfaces: []*armcompute.NetworkInterfaceReference{{
				ID: to.Ptr(c.resourceID("Microsoft.Network", "networkInterfaces", nicName(inst.Name))),
				Properties: &armcompute.NetworkInterfaceReferenceProperties{
					Primary: to.Ptr(true), DeleteOption: to.Ptr(armcompute.DeleteOptionsDetach),
				},
			}}},
		},
	}, nil
}

// keyOf is the SSH key an existing VM was made with.
func keyOf(vm armcompute.VirtualMachine) string {
	p := vm.Properties
	if p == nil || p.OSProfile == nil || p.OSProfile.LinuxConfiguration == nil || p.OSProfile.LinuxConfiguration.SSH == nil {
		return ""
	}
	for _, k := range p.OSProfile.LinuxConfiguration.SSH.PublicKeys {
		if k != nil && deref(k.KeyData) != "" {
			return deref(k.KeyData)
		}
	}
	return ""
}

// imageOf is the image an existing VM was made from, as it was asked for.
func imageOf(vm armcompute.VirtualMachine) Image {
	if vm.Properties == nil || vm.Properties.StorageProfile == nil || vm.Properties.StorageProfile.ImageReference == nil {
		return Image{}
	}
	ref := vm.Properties.StorageProfile.ImageReference
	if ref.Publisher == nil || ref.Version == nil {
		return Image{}
	}
	return Image{Publisher: deref(ref.Publisher), Offer: deref(ref.Offer), SKU: deref(ref.SKU), Version: deref(ref.Version)}
}

// nicAddress is the private address Azure gave inst's network interface,
// made the step before the VM: the address the portal reaches the VM at
// (addresses), and so the one its applications listen on. A dynamic private
// address stays the interface's until the interface is deleted.
func (c *Cloud) nicAddress(ctx context.Context, inst *instancehub.Instance) (netip.Addr, error) {
	nic, err := c.nics.Get(ctx, c.cfg.ResourceGroup, nicName(inst.Name), nil)
	if err != nil {
		return netip.Addr{}, cloudError(err, "read network interface of "+inst.Name)
	}
	var private string
	if ipc := primaryIPConfiguration(nic.Interface); ipc != nil {
		private = deref(ipc.PrivateIPAddress)
	}
	addr, err := netip.ParseAddr(private)
	if err != nil || !addr.Is4() {
		return netip.Addr{}, instancehub.Errorf(instancehub.EUNAVAILABLE, "The network interface of %s has no private IPv4 address (%q).", inst.Name, private)
	}
	return addr, nil
}

// primaryIPConfiguration is the IP configuration of nic that Azure routes
// the VM's traffic by: the one marked primary, or the only one. The portal
// makes one, but an operator may add another to an adopted VM's interface,
// in any order.
func primaryIPConfiguration(nic armnetwork.Interface) *armnetwork.InterfaceIPConfigurationPropertiesFormat {
	if nic.Properties == nil {
		return nil
	}
	var first *armnetwork.InterfaceIPConfigurationPropertiesFormat
	for _, ipc := range nic.Properties.IPConfigurations {
		if ipc == nil || ipc.Properties == nil {
			continue
		}
		if deref(ipc.Properties.Primary) {
			return ipc.Properties
		}
		if first == nil {
			first = ipc.Properties
		}
	}
	return first
}

// sealedKey returns a fresh ed25519 public key whose private key is thrown away.
func sealedKey() (string, error) {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", fmt.Errorf("generate key: %w", err)
	}
	sshKey, err := ssh.NewPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("ssh key: %w", err)
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sshKey))) + sealedKeyComment, nil
}

// cloudInit prepares the workstation for its owner, reached only through
// the portal's gateway, each application on its own origin and so at the
// root path: JupyterLab (which also serves the classic interface and the
// terminal), which signs in the gateway by the instance's own secret (see
// JupyterConfig), and RStudio Server, which the Data Science VM no longer
// ships (release notes, June 2022), as a rocker container with its login
// off on loopback, behind a proxy that checks the instance's secret (see
// ProxyConfig), as the owner's account, whatever its IDs. Jupyter listens
// on the network interface's address only (address). Docker
// takes its addresses from the configured pool (dockerNetworkScript), first,
// so that RStudio's container is never made on the default bridge. The
// marker records whose instance this is. It holds no secret: the secret
// comes later, by the Custom Script extension (SecretScript), and Jupyter
// starts once it is there.
func (c *Cloud) cloudInit(inst *instancehub.Instance, address netip.Addr, rstudioDigest string) string {
	marker, _ := json.Marshal(map[string]string{"portal": c.cfg.PortalID, "instance": inst.Name, "owner": inst.OwnerEmail})
	return strings.NewReplacer(
		"{marker}", string(marker),
		"{address}", address.String(),
		"{user}", instancehub.SSHUser,
		"{jupyter}", portJupyter,
		"{rstudio}", portRStudio,
		"{rstudioScriptFile}", rstudioScriptFile,
		"{rstudioScript}", indent(rstudioScript(c.rstudio, rstudioDigest, c.cfg.RegistryIdentity), "      "),
		"{jupyterConfig}", jupyterConfigFile,
		"{secretFile}", SecretFile,
		"{rstudioLoopback}", rstudioLoopback,
		"{proxyConfig}", indent(ProxyConfig(), "      "),
		"{dockerNetworkFile}", dockerNetworkFile,
		"{dockerNetwork}", indent(dockerNetworkScript(c.dockerPool), "      "),
	).Replace(cloudInitTemplate)
}

// The ports of the applications: JupyterLab (and Jupyter) and RStudio Server.
const (
	portJupyter = "8888"
	portRStudio = "8787"
)

const cloudInitTemplate = `#cloud-config
packages:
  - nginx
write_files:
  - path: /etc/instancehub/instance.json
    permissions: "0644"
    content: |
      {marker}
  - path: /etc/systemd/system/instancehub-jupyter.service
    permissions: "0644"
    content: |
      [Unit]
      Description=JupyterLab for the instance's owner, through the portal (instancehub)
      Wants=network-online.target
      After=network-online.target
      [Service]
      User={user}
      WorkingDirectory=/home/{user}
      ExecStart=/anaconda/bin/jupyter lab --no-browser --ip={address} --port={jupyter} --ServerApp.base_url=/ --config={jupyterConfig} --ServerApp.allow_remote_access=True
      Restart=always
      RestartSec=5
  - path: /etc/systemd/system/instancehub-jupyter.path
    permissions: "0644"
    content: |
      [Unit]
      Description=JupyterLab starts once the portal's secret is on the VM (instancehub)
      [Path]
      PathExists={secretFile}
      [Install]
      WantedBy=multi-user.target
  - path: /etc/systemd/system/instancehub-rstudio.service
    permissions: "0644"
    content: |
      [Unit]
      Description=RStudio Server for the instance's owner, through the portal (instancehub)
      Requires=docker.service
      After=docker.service network-online.target
      [Service]
      ExecStart={rstudioScriptFile}
      Restart=always
      RestartSec=30
      [Install]
      WantedBy=multi-user.target
  - path: /etc/nginx/conf.d/instancehub-rstudio.conf
    permissions: "0644"
    content: |
      {proxyConfig}
  - path: {rstudioScriptFile}
    permissions: "0755"
    content: |
      {rstudioScript}
  - path: {dockerNetworkFile}
    permissions: "0755"
    content: |
      {dockerNetwork}
runcmd:
  - [python3, {dockerNetworkFile}]
  - [rm, -f, /etc/nginx/sites-enabled/default]
  - [systemctl, reload-or-restart, nginx]
  - [systemctl, daemon-reload]
  - [systemctl, disable, --now, jupyterhub]
  - [systemctl, enable, --now, instancehub-jupyter.path]
  - [systemctl, enable, --now, --no-block, instancehub-rstudio]
`
