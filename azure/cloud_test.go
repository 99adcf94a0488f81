package azure_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v8"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v9"
	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/azure"
	"github.com/instancehub/instancehub/azure/emulator"
)

func newCloud(t *testing.T, opts emulator.Options) (*azure.Cloud, *emulator.Emulator) {
	t.Helper()
	emu, err := emulator.Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	cloud, err := azure.New(azure.Config{
		SubscriptionID: emu.SubscriptionID(), ResourceGroup: emu.ResourceGroup(),
		Regions: emu.Regions(), PublicIP: true, PortalID: "test-portal",
		SSHSourceRange: "203.0.113.0/24", AppSourceRange: "10.9.0.0/24",
	}, emu.Credential(), emu.ClientOptions())
	if err != nil {
		t.Fatal(err)
	}
	return cloud, emu
}

func instance(name, size string, ssh bool) *instancehub.Instance {
	inst := &instancehub.Instance{
		Name: name, Region: "eastus", VMSize: size, SSHEnabled: ssh, SSHPort: 22,
		VirtualNetwork: "vnet-eastus", Subnet: "default", OwnerEmail: "ada@example.com",
		AppSecret: "s3cret-of-" + name + "_0123456789abcdefghijklmnopq",
	}
	if ssh {
		inst.SSHPublicKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHb8mN5o0H9GmWQ0jDmK5aS5cOl0pM3r3JQUgD0c0iYv ada@laptop"
	}
	return inst
}

// run carries out every step of op, as the engine does, polling each to the end.
func run(t *testing.T, c *azure.Cloud, op instancehub.OperationKind, inst *instancehub.Instance) error {
	t.Helper()
	ctx := context.Background()
	for _, step := range c.Steps(op, inst) {
		token, err := c.BeginStep(ctx, op, step, inst)
		if err != nil {
			return err
		}
		for token != "" {
			done, err := c.PollStep(ctx, op, step, inst, token)
			if err != nil {
				return err
			}
			if done {
				break
			}
		}
	}
	return nil
}

func notFound(err error) bool {
	var re *azcore.ResponseError
	return errors.As(err, &re) && re.StatusCode == http.StatusNotFound
}

func TestCatalog(t *testing.T) {
	c, _ := newCloud(t, emulator.Options{})
	ctx := context.Background()
	regions, err := c.Regions(ctx)
	if err != nil || len(regions) != 3 || regions[0] != (instancehub.Region{Name: "eastus", DisplayName: "East US"}) {
		t.Fatalf("regions = %v, %v", regions, err)
	}
	sizes, err := c.VMSizes(ctx, "eastus")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]instancehub.VMSize{
		"Standard_DS3_v2":  {Name: "Standard_DS3_v2", Family: "standardDSv2Family", VCPUs: 4, MemoryGiB: 14},
		"Standard_NC6s_v3": {Name: "Standard_NC6s_v3", Family: "standardNCSv3Family", VCPUs: 6, MemoryGiB: 112, GPUs: 1},
	}
	for _, s := range sizes {
		if w, ok := want[s.Name]; ok {
			if s != w {
				t.Errorf("size %s = %+v, want %+v", s.Name, s, w)
			}
			delete(want, s.Name)
		}
	}
	if len(want) > 0 {
		t.Errorf("sizes missing: %v", want)
	}
	usage, err := c.Usage(ctx, "eastus")
	if err != nil {
		t.Fatal(err)
	}
	var total *instancehub.Usage
	for i := range usage {
		if usage[i].Name == instancehub.TotalRegionalVCPUs {
			total = &usage[i]
		}
	}
	if total == nil || total.Label != "Total Regional vCPUs" || total.Limit == 0 {
		t.Errorf("total = %+v", total)
	}
	for _, u := range usage {
		if u.Name != instancehub.TotalRegionalVCPUs && !strings.HasSuffix(u.Name, "Family") {
			t.Errorf("usage %q is not a vCPU quota", u.Name)
		}
	}
	// The portal's own network comes first, planned until an instance needs it;
	// the networks already in the resource group follow.
	nets, err := c.VirtualNetworks(ctx, "westeurope")
	if err != nil || len(nets) != 2 || nets[0].Name != "instancehub-westeurope" || !nets[0].Planned ||
		nets[1].Name != "vnet-westeurope" || len(nets[1].Subnets) != 2 {
		t.Errorf("networks = %+v, %v", nets, err)
	}
	if _, err := c.VMSizes(ctx, "marsnorth"); instancehub.ErrorCode(err) != instancehub.EINVALID {
		t.Errorf("unknown region: %v", err)
	}
}

func TestLifecycle(t *testing.T) {
	c, emu := newCloud(t, emulator.Options{})
	ctx := context.Background()
	inst := instance("life-box", "Standard_DS3_v2", true)
	steps := c.Steps(instancehub.OpCreate, inst)
	if strings.Join(steps, ",") != "network security group,public IP address,network interface,virtual machine,application secret" {
		t.Errorf("create steps = %v", steps)
	}
	if err := run(t, c, instancehub.OpCreate, inst); err != nil {
		t.Fatal(err)
	}
	vm, err := c.VM(ctx, inst)
	if err != nil || vm.State() != instancehub.StateRunning || !strings.HasPrefix(vm.PrivateIP, "10.1.0.") || vm.PublicIP == "" {
		t.Fatalf("after create: %+v, %v", vm, err)
	}
	for _, s := range []struct {
		op    instancehub.OperationKind
		power string
	}{
		{instancehub.OpStop, "deallocated"},
		{instancehub.OpStart, "running"},
		{instancehub.OpRestart, "running"},
	} {
		if err := run(t, c, s.op, inst); err != nil {
			t.Fatalf("%s: %v", s.op, err)
		}
		if vm, err := c.VM(ctx, inst); err != nil || vm.PowerState != s.power {
			t.Errorf("%s: %+v, %v; want %s", s.op, vm, err, s.power)
		}
	}
	restarts := emu.CallsTo("VirtualMachinesClient.BeginRestart")
	if restarts == 0 {
		t.Error("restart never reached BeginRestart")
	}
	if err := run(t, c, instancehub.OpDelete, inst); err != nil {
		t.Fatal(err)
	}
	if _, err := c.VM(ctx, inst); instancehub.ErrorCode(err) != instancehub.ENOTFOUND {
		t.Errorf("after delete: %v, want not found", err)
	}
	network, err := armnetwork.NewClientFactory(emu.SubscriptionID(), emu.Credential(), emu.ClientOptions())
	if err != nil {
		t.Fatal(err)
	}
	rg := emu.ResourceGroup()
	if _, err := network.NewInterfacesClient().Get(ctx, rg, "life-box-nic", nil); !notFound(err) {
		t.Errorf("network interface left behind: %v", err)
	}
	if _, err := network.NewPublicIPAddressesClient().Get(ctx, rg, "life-box-ip", nil); !notFound(err) {
		t.Errorf("public IP left behind: %v", err)
	}
	if _, err := network.NewSecurityGroupsClient().Get(ctx, rg, "life-box-nsg", nil); !notFound(err) {
		t.Errorf("security group left behind: %v", err)
	}
	// Deleting again finds everything gone and succeeds.
	if err := run(t, c, instancehub.OpDelete, inst); err != nil {
		t.Errorf("second delete: %v", err)
	}
}

func TestConflictWhileBusy(t *testing.T) {
	c, _ := newCloud(t, emulator.Options{Latency: 0.5}) // deallocate ≈ 2 s
	ctx := context.Background()
	inst := instance("busy-box", "Standard_DS1_v2", false)
	if err := run(t, c, instancehub.OpCreate, inst); err != nil {
		t.Fatal(err)
	}
	if _, err := c.BeginStep(ctx, instancehub.OpStop, azure.StepVirtualMachine, inst); err != nil {
		t.Fatal(err)
	}
	_, err := c.BeginStep(ctx, instancehub.OpRestart, azure.StepVirtualMachine, inst)
	if instancehub.ErrorCode(err) != instancehub.ECONFLICT || instancehub.CloudErrorCode(err) == "" {
		t.Fatalf("restart while deallocating: %v, want a conflict with Azure's code", err)
	}
	if msg := instancehub.ErrorMessage(err); !strings.Contains(msg, "busy-box") {
		t.Errorf("message = %q, want it to name the VM", msg)
	}
}

func TestQuotaRefusal(t *testing.T) {
	c, _ := newCloud(t, emulator.Options{Quota: map[string]map[string]int{"eastus": {"standardNCSv3Family": 6}}})
	first := instance("gpu-one", "Standard_NC6s_v3", false)
	if err := run(t, c, instancehub.OpCreate, first); err != nil {
		t.Fatal(err)
	}
	// Stopping frees nothing in Azure: a deallocated VM still holds its cores.
	if err := run(t, c, instancehub.OpStop, first); err != nil {
		t.Fatal(err)
	}
	err := run(t, c, instancehub.OpCreate, instance("gpu-two", "Standard_NC6s_v3", false))
	if instancehub.ErrorCode(err) != instancehub.EQUOTA || instancehub.CloudErrorCode(err) != "OperationNotAllowed" {
		t.Fatalf("second GPU instance: %v, want Azure's quota refusal", err)
	}
	want := "Standard NCSv3 Family: 6 vCPUs requested, but 6 of the subscription's limit of 6 are in use in eastus. (Azure refused the request.)"
	if msg := instancehub.ErrorMessage(err); msg != want {
		t.Errorf("message = %q\nwant      %q", msg, want)
	}
	usage, _ := c.Usage(context.Background(), "eastus")
	for _, u := range usage {
		if u.Name == "standardNCSv3Family" && u.Current != 6 {
			t.Errorf("usage = %+v, want 6 in use by the stopped VM", u)
		}
	}
}

func TestFailedCreateCarriesAzureError(t *testing.T) {
	c, emu := newCloud(t, emulator.Options{})
	emu.InjectFault(emulator.Fault{
		API: "VirtualMachinesClient.BeginCreateOrUpdate", Resource: "no-room", Async: true, StatusCode: 200,
		Code: "AllocationFailed", Message: "Allocation failed. Please try another size or region.",
	})
	inst := instance("no-room", "Standard_DS3_v2", false)
	err := run(t, c, instancehub.OpCreate, inst)
	if instancehub.ErrorCode(err) != instancehub.ECLOUD || instancehub.CloudErrorCode(err) != "AllocationFailed" ||
		instancehub.ErrorMessage(err) != "Allocation failed. Please try another size or region." {
		t.Fatalf("err = %v, want Azure's failure with its code and message", err)
	}
	vm, err := c.VM(context.Background(), inst)
	if err != nil || vm.State() != instancehub.StateCreateFailed {
		t.Errorf("the failed VM = %+v, %v; want it present in CreateFailed, as Azure leaves it", vm, err)
	}
	if err := run(t, c, instancehub.OpDelete, inst); err != nil {
		t.Errorf("delete after a failed create: %v", err)
	}
}

func TestRequestBodies(t *testing.T) {
	c, emu := newCloud(t, emulator.Options{})
	withSSH := instance("with-ssh", "Standard_DS3_v2", true)
	without := instance("no-ssh", "Standard_DS3_v2", false)
	for _, inst := range []*instancehub.Instance{withSSH, without} {
		if err := run(t, c, instancehub.OpCreate, inst); err != nil {
			t.Fatal(err)
		}
	}
	var vm armcompute.VirtualMachine
	body, ok := emu.RequestBody("virtualMachines", "with-ssh")
	if !ok || json.Unmarshal(body, &vm) != nil {
		t.Fatalf("no VM body: %s", body)
	}
	p := vm.Properties
	img := p.StorageProfile.ImageReference
	if *img.Publisher != "microsoft-dsvm" || *img.Offer != "ubuntu-2204" || *img.SKU != "2204-gen2" {
		t.Errorf("image = %s/%s/%s", *img.Publisher, *img.Offer, *img.SKU)
	}
	if *p.StorageProfile.OSDisk.DeleteOption != armcompute.DiskDeleteOptionTypesDelete {
		t.Error("the OS disk is not deleted with the VM")
	}
	linux := p.OSProfile.LinuxConfiguration
	if !*linux.DisablePasswordAuthentication || p.OSProfile.AdminPassword != nil {
		t.Error("password sign-in is not off")
	}
	if *img.Version != "25.04.22" {
		t.Errorf("image version %q, want latest resolved and pinned", *img.Version)
	}
	if key := *linux.SSH.PublicKeys[0].KeyData; key != withSSH.SSHPublicKey {
		t.Errorf("key = %q", key)
	}
	if vm.Tags[azure.TagPortal] == nil || *vm.Tags[azure.TagPortal] != "test-portal" || *vm.Tags[azure.TagOwner] != "ada@example.com" {
		t.Errorf("tags = %v", vm.Tags)
	}
	if p.OSProfile.CustomData == nil {
		t.Fatal("no cloud-init")
	}
	initData, _ := base64.StdEncoding.DecodeString(*p.OSProfile.CustomData)
	for _, want := range []string{"#cloud-config", `"instance":"with-ssh"`, `"owner":"ada@example.com"`, "jupyter lab", "ghcr.io/azure/rocker-rstudio-ml-verse@sha256:"} {
		if !strings.Contains(string(initData), want) {
			t.Errorf("cloud-init lacks %q", want)
		}
	}
	for name, tags := range map[string]map[string]*string{"VM": vm.Tags} {
		if *tags[azure.TagInstance] != "with-ssh" {
			t.Errorf("%s tags = %v", name, tags)
		}
	}
	for _, kind := range []struct{ typ, name string }{{"networkInterfaces", "with-ssh-nic"}, {"publicIPAddresses", "with-ssh-ip"}, {"networkSecurityGroups", "with-ssh-nsg"}} {
		body, _ := emu.RequestBody(kind.typ, kind.name)
		if !strings.Contains(string(body), `"instancehub-instance":"with-ssh"`) || !strings.Contains(string(body), `"instancehub-portal":"test-portal"`) {
			t.Errorf("%s tags: %s", kind.typ, body)
		}
	}
	nsg := func(name string) map[string]armnetwork.SecurityRulePropertiesFormat {
		body, _ := emu.RequestBody("networkSecurityGroups", name)
		var group armnetwork.SecurityGroup
		if err := json.Unmarshal(body, &group); err != nil {
			t.Fatalf("NSG %s: %v", name, err)
		}
		out := map[string]armnetwork.SecurityRulePropertiesFormat{}
		for _, r := range group.Properties.SecurityRules {
			out[*r.Name] = *r.Properties
		}
		return out
	}
	ports := func(p armnetwork.SecurityRulePropertiesFormat) string {
		var s []string
		for _, port := range p.DestinationPortRanges {
			s = append(s, *port)
		}
		return strings.Join(s, ",")
	}
	withSSHRules := nsg("with-ssh-nsg")
	if r := withSSHRules["allow-ssh"]; r.Priority == nil || *r.SourceAddressPrefix != "203.0.113.0/24" || ports(r) != "22" {
		t.Errorf("SSH rule: %+v, want SSH from the configured source only", r)
	}
	if r := withSSHRules["allow-portal-apps"]; r.Priority == nil || *r.SourceAddressPrefix != "10.9.0.0/24" || ports(r) != "8888,8787" {
		t.Errorf("the applications' rule: %+v, want them from the portal's range only", r)
	}
	// Azure's AllowVnetInBound (65000) would admit the whole network and its
	// peers: an explicit deny under the allows closes that
	// (TestSecurityGroupAdmitsOnlyThePortal evaluates the rules as Azure does).
	if r := withSSHRules["deny-network-inbound"]; r.Priority == nil || *r.Access != armnetwork.SecurityRuleAccessDeny ||
		*r.SourceAddressPrefix != "VirtualNetwork" || deref(r.DestinationPortRange) != "*" || *r.Priority <= 200 || *r.Priority >= 65000 {
		t.Errorf("deny rule: %+v", r)
	}
	noSSH := nsg("no-ssh-nsg")
	if _, ok := noSSH["allow-ssh"]; ok {
		t.Errorf("NSG without SSH allows SSH: %+v", noSSH)
	}
	if _, ok := noSSH["deny-network-inbound"]; !ok {
		t.Errorf("NSG without SSH lacks the deny: %+v", noSSH)
	}
	if _, ok := emu.RequestBody("publicIPAddresses", "no-ssh-ip"); ok {
		t.Error("an instance without SSH got a public IP")
	}
}

func TestSharedNetwork(t *testing.T) {
	c, emu := newCloud(t, emulator.Options{})
	ctx := context.Background()
	first := instance("first-box", "Standard_DS1_v2", false)
	first.VirtualNetwork, first.Subnet = "instancehub-eastus", "workstations"
	if steps := c.Steps(instancehub.OpCreate, first); steps[0] != azure.StepVirtualNetwork {
		t.Fatalf("steps = %v, want the network first", steps)
	}
	if err := run(t, c, instancehub.OpCreate, first); err != nil {
		t.Fatal(err)
	}
	vm, err := c.VM(ctx, first)
	if err != nil || !strings.HasPrefix(vm.PrivateIP, "10.200.0.") {
		t.Fatalf("VM in the shared network = %+v, %v", vm, err)
	}
	nets, _ := c.VirtualNetworks(ctx, "eastus")
	if nets[0].Name != "instancehub-eastus" || nets[0].Planned {
		t.Errorf("after the first create: %+v", nets[0])
	}
	body, _ := emu.RequestBody("virtualNetworks", "instancehub-eastus")
	// Private by default with network API versions after March 2026: the
	// portal says outright that its instances may reach the Internet.
	if !strings.Contains(string(body), `"defaultOutboundAccess":true`) {
		t.Errorf("the shared subnet does not set its outbound access: %s", body)
	}
	if !strings.Contains(string(body), `"10.200.0.0/16"`) || !strings.Contains(string(body), `"test-portal"`) {
		t.Errorf("network body = %s", body)
	}
	// The second instance joins it; the network is not sent again, and,
	// once found ready, not read again either (its answer lists every
	// address in use: thousands at scale).
	puts := emu.CallsTo("VirtualNetworksClient.BeginCreateOrUpdate")
	second := instance("second-box", "Standard_DS1_v2", false)
	second.VirtualNetwork, second.Subnet = "instancehub-eastus", "workstations"
	if err := run(t, c, instancehub.OpCreate, second); err != nil {
		t.Fatal(err)
	}
	if n := emu.CallsTo("VirtualNetworksClient.BeginCreateOrUpdate") - puts; n != 0 {
		t.Errorf("the existing network was sent %d more times", n)
	}
	reads := emu.CallsTo("VirtualNetworksClient.Get")
	if reads == 0 {
		t.Fatal("the network was never read: the count is not of its reads")
	}
	third := instance("third-box", "Standard_DS1_v2", false)
	third.VirtualNetwork, third.Subnet = "instancehub-eastus", "workstations"
	if err := run(t, c, instancehub.OpCreate, third); err != nil {
		t.Fatal(err)
	}
	if n := emu.CallsTo("VirtualNetworksClient.Get") - reads; n != 0 {
		t.Errorf("the ready network was read %d more times", n)
	}
	if err := run(t, c, instancehub.OpDelete, third); err != nil {
		t.Fatal(err)
	}
	// Deleting instances never removes the shared network.
	if err := run(t, c, instancehub.OpDelete, first); err != nil {
		t.Fatal(err)
	}
	if nets, _ := c.VirtualNetworks(ctx, "eastus"); nets[0].Name != "instancehub-eastus" || nets[0].Planned {
		t.Errorf("after a delete: %+v", nets[0])
	}
}

// TestForeignResourcesUntouched: a VM and NIC of the same name that the
// portal did not make are never taken over by a create nor removed by a delete.
func TestForeignResourcesUntouched(t *testing.T) {
	c, emu := newCloud(t, emulator.Options{})
	ctx := context.Background()
	inst := instance("foreign", "Standard_DS1_v2", false)
	nics, err := armnetwork.NewInterfacesClient(emu.SubscriptionID(), emu.Credential(), emu.ClientOptions())
	if err != nil {
		t.Fatal(err)
	}
	nicPoller, err := nics.BeginCreateOrUpdate(ctx, emu.ResourceGroup(), "foreign-nic", armnetwork.Interface{
		Location: to.Ptr("eastus"),
		Properties: &armnetwork.InterfacePropertiesFormat{IPConfigurations: []*armnetwork.InterfaceIPConfiguration{{
			Name: to.Ptr("ipconfig1"),
			Properties: &armnetwork.InterfaceIPConfigurationPropertiesFormat{Subnet: &armnetwork.Subnet{
				ID: to.Ptr("/subscriptions/" + emu.SubscriptionID() + "/resourceGroups/" + emu.ResourceGroup() +
					"/providers/Microsoft.Network/virtualNetworks/vnet-eastus/subnets/default")}},
		}}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	nic, err := nicPoller.PollUntilDone(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	vms, err := armcompute.NewVirtualMachinesClient(emu.SubscriptionID(), emu.Credential(), emu.ClientOptions())
	if err != nil {
		t.Fatal(err)
	}
	vmPoller, err := vms.BeginCreateOrUpdate(ctx, emu.ResourceGroup(), "foreign", armcompute.VirtualMachine{
		Location: to.Ptr("eastus"),
		Tags:     map[string]*string{"owner": to.Ptr("another-tool")},
		Properties: &armcompute.VirtualMachineProperties{
			HardwareProfile: &armcompute.HardwareProfile{VMSize: to.Ptr(armcompute.VirtualMachineSizeTypes("Standard_DS1_v2"))},
			StorageProfile: &armcompute.StorageProfile{ImageReference: &armcompute.ImageReference{
				Publisher: to.Ptr("Canonical"), Offer: to.Ptr("ubuntu-24_04-lts"), SKU: to.Ptr("server"), Version: to.Ptr("latest"),
			}},
			OSProfile: &armcompute.OSProfile{
				ComputerName: to.Ptr("foreign"), AdminUsername: to.Ptr("someone"),
				LinuxConfiguration: &armcompute.LinuxConfiguration{
					DisablePasswordAuthentication: to.Ptr(true),
					SSH: &armcompute.SSHConfiguration{PublicKeys: []*armcompute.SSHPublicKey{{
						Path: to.Ptr("/home/someone/.ssh/authorized_keys"), KeyData: to.Ptr(instance("x", "", true).SSHPublicKey),
					}}},
				},
			},
			NetworkProfile: &armcompute.NetworkProfile{NetworkInterfaces: []*armcompute.NetworkInterfaceReference{{ID: nic.ID}}},
		},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := vmPoller.PollUntilDone(ctx, nil); err != nil {
		t.Fatal(err)
	}

	err = run(t, c, instancehub.OpCreate, inst)
	if instancehub.ErrorCode(err) != instancehub.ECONFLICT || !strings.Contains(instancehub.ErrorMessage(err), "instancehub did not make it") {
		t.Errorf("create over a foreign VM: %v, want a refusal", err)
	}
	if err := run(t, c, instancehub.OpDelete, inst); err != nil {
		t.Fatal(err)
	}
	if _, err := c.VM(ctx, inst); err != nil {
		t.Errorf("the foreign VM was deleted: %v", err)
	}
	if _, err := nics.Get(ctx, emu.ResourceGroup(), "foreign-nic", nil); err != nil {
		t.Errorf("the foreign NIC was deleted: %v", err)
	}
}

func TestVMsListsInPages(t *testing.T) {
	plenty := map[string]int{"cores": 1000, "standardDSv2Family": 1000}
	c, emu := newCloud(t, emulator.Options{PageSize: 50, Quota: map[string]map[string]int{
		"eastus": plenty, "westeurope": plenty, "southeastasia": plenty,
	}})
	for i := range 120 {
		inst := instance("page-box-"+string(rune('a'+i/26))+string(rune('a'+i%26)), "Standard_DS1_v2", false)
		inst.Region = []string{"eastus", "westeurope", "southeastasia"}[i%3]
		inst.VirtualNetwork = "vnet-" + inst.Region
		if err := run(t, c, instancehub.OpCreate, inst); err != nil {
			t.Fatal(err)
		}
	}
	before := emu.CallsTo("VirtualMachinesClient.NewListPager")
	vms := map[string]instancehub.VM{}
	err := c.VMs(context.Background(), func(vm instancehub.VM) { vms[vm.Name] = vm })
	if err != nil {
		t.Fatal(err)
	}
	if len(vms) != 120 {
		t.Fatalf("%d VMs, want 120", len(vms))
	}
	if pages := emu.CallsTo("VirtualMachinesClient.NewListPager") - before; pages != 3 {
		t.Errorf("%d list calls, want 3 pages of 50", pages)
	}
	if vm := vms["page-box-aa"]; vm.State() != instancehub.StateRunning {
		t.Errorf("page-box-aa = %+v", vm)
	}
}

// TestRegionsFromAzure: an allowed region where Azure offers no VM size is
// left out of the create form's list.
func TestRegionsFromAzure(t *testing.T) {
	emu, err := emulator.Open(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer emu.Close()
	c, err := azure.New(azure.Config{SubscriptionID: emu.SubscriptionID(), ResourceGroup: emu.ResourceGroup(),
		Regions: []string{"westeurope", "marsnorth", "eastus"}}, emu.Credential(), emu.ClientOptions())
	if err != nil {
		t.Fatal(err)
	}
	regions, err := c.Regions(context.Background())
	if err != nil || len(regions) != 2 || regions[0].Name != "westeurope" || regions[1].DisplayName != "East US" {
		t.Errorf("regions = %+v, %v", regions, err)
	}
}

// TestNoSSHSourceNoSSH: until an operator names where SSH may come from,
// an instance with SSH on gets no public IP and no rule admitting SSH.
func TestNoSSHSourceNoSSH(t *testing.T) {
	emu, err := emulator.Open(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	c, err := azure.New(azure.Config{SubscriptionID: emu.SubscriptionID(), ResourceGroup: emu.ResourceGroup(),
		Regions: emu.Regions(), PublicIP: true}, emu.Credential(), emu.ClientOptions())
	if err != nil {
		t.Fatal(err)
	}
	inst := instance("closed-box", "Standard_DS1_v2", true)
	inst.SSHPublicKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHb8mN5o0H9GmWQ0jDmK5aS5cOl0pM3r3JQUgD0c0iYv ada@laptop"
	if err := run(t, c, instancehub.OpCreate, inst); err != nil {
		t.Fatal(err)
	}
	if _, ok := emu.RequestBody("publicIPAddresses", "closed-box-ip"); ok {
		t.Error("a public IP was made with no SSH source configured")
	}
	body, _ := emu.RequestBody("networkSecurityGroups", "closed-box-nsg")
	if strings.Contains(string(body), "allow-ssh") || strings.Contains(string(body), "Internet") || !strings.Contains(string(body), "deny-network-inbound") {
		t.Errorf("NSG: %s", body)
	}
}

// TestStoppedBilling: a stopped instance still bills its disk, and its
// public IP when it has one; the page offering Stop says so.
func TestStoppedBilling(t *testing.T) {
	c, _ := newCloud(t, emulator.Options{})
	withSSH := instance("paid-box", "Standard_DS1_v2", true)
	if got := c.StoppedBilling(withSSH); got != "While stopped, paid-box bills no compute, but its 128 GiB Premium SSD OS disk and its static public IP keep billing." {
		t.Errorf("with SSH: %q", got)
	}
	if got := c.StoppedBilling(instance("quiet-box", "Standard_DS1_v2", false)); strings.Contains(got, "public IP") || !strings.Contains(got, "128 GiB Premium SSD OS disk keeps billing") {
		t.Errorf("without SSH: %q", got)
	}
}

// The instance's managed identity and tags reach its VM; the portal's own
// tags win over a tag of the same name.
func TestIdentityAndTags(t *testing.T) {
	c, emu := newCloud(t, emulator.Options{})
	inst := instance("with-identity", "Standard_DS3_v2", false)
	uami := "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/ids/providers/Microsoft.ManagedIdentity/userAssignedIdentities/reader"
	inst.Identity = instancehub.ManagedIdentity{SystemAssigned: true, UserAssigned: []string{uami}}
	inst.Tags = map[string]string{"team": "vision", "cost-center": "4711"}
	if err := run(t, c, instancehub.OpCreate, inst); err != nil {
		t.Fatal(err)
	}
	vms, err := armcompute.NewVirtualMachinesClient(emu.SubscriptionID(), emu.Credential(), emu.ClientOptions())
	if err != nil {
		t.Fatal(err)
	}
	got, err := vms.Get(context.Background(), emu.ResourceGroup(), "with-identity", nil)
	if err != nil {
		t.Fatal(err)
	}
	vm := got.VirtualMachine
	if vm.Identity == nil || *vm.Identity.Type != armcompute.ResourceIdentityTypeSystemAssignedUserAssigned {
		t.Fatalf("identity = %+v, want system and user assigned", vm.Identity)
	}
	if _, ok := vm.Identity.UserAssignedIdentities[uami]; !ok || len(vm.Identity.UserAssignedIdentities) != 1 {
		t.Errorf("user-assigned identities = %v", vm.Identity.UserAssignedIdentities)
	}
	if vm.Identity.PrincipalID == nil || vm.Identity.TenantID == nil {
		t.Errorf("the system-assigned identity has no principal: %+v", vm.Identity)
	}
	if *vm.Tags["team"] != "vision" || *vm.Tags["cost-center"] != "4711" || *vm.Tags[azure.TagInstance] != "with-identity" {
		t.Errorf("tags = %v", vm.Tags)
	}
	plain := instance("no-identity", "Standard_DS3_v2", false)
	if err := run(t, c, instancehub.OpCreate, plain); err != nil {
		t.Fatal(err)
	}
	if got, err := vms.Get(context.Background(), emu.ResourceGroup(), "no-identity", nil); err != nil || got.Identity != nil {
		t.Errorf("a VM without identity got %+v (%v)", got.Identity, err)
	}
}
