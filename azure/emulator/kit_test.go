package emulator_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v8"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v9"

	"github.com/instancehub/instancehub/azure/emulator"
)

// kit is an emulator with the real SDK clients pointed at it.
type kit struct {
	t         testing.TB
	e         *emulator.Emulator
	rg        string
	vms       *armcompute.VirtualMachinesClient
	usage     *armcompute.UsageClient
	sizes     *armcompute.VirtualMachineSizesClient
	skus      *armcompute.ResourceSKUsClient
	images    *armcompute.VirtualMachineImagesClient
	nics      *armnetwork.InterfacesClient
	pips      *armnetwork.PublicIPAddressesClient
	nsgs      *armnetwork.SecurityGroupsClient
	vnets     *armnetwork.VirtualNetworksClient
	subnets   *armnetwork.SubnetsClient
	subnetIDs map[string]string // cache: region/subnet -> ID
}

var ctx = context.Background()

// newKit opens an emulator (closed at the end of the test) and its clients.
func newKit(t testing.TB, opts emulator.Options) *kit {
	t.Helper()
	e, err := emulator.Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return kitFor(t, e)
}

func kitFor(t testing.TB, e *emulator.Emulator) *kit {
	t.Helper()
	k := &kit{t: t, e: e, rg: e.ResourceGroup(), subnetIDs: map[string]string{}}
	sub, cred, opts := e.SubscriptionID(), e.Credential(), e.ClientOptions()
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	var err error
	k.vms, err = armcompute.NewVirtualMachinesClient(sub, cred, opts)
	must(err)
	k.usage, err = armcompute.NewUsageClient(sub, cred, opts)
	must(err)
	k.sizes, err = armcompute.NewVirtualMachineSizesClient(sub, cred, opts)
	must(err)
	k.skus, err = armcompute.NewResourceSKUsClient(sub, cred, opts)
	must(err)
	k.images, err = armcompute.NewVirtualMachineImagesClient(sub, cred, opts)
	must(err)
	k.nics, err = armnetwork.NewInterfacesClient(sub, cred, opts)
	must(err)
	k.pips, err = armnetwork.NewPublicIPAddressesClient(sub, cred, opts)
	must(err)
	k.nsgs, err = armnetwork.NewSecurityGroupsClient(sub, cred, opts)
	must(err)
	k.vnets, err = armnetwork.NewVirtualNetworksClient(sub, cred, opts)
	must(err)
	k.subnets, err = armnetwork.NewSubnetsClient(sub, cred, opts)
	must(err)
	return k
}

// await polls an LRO as a UI would, every few milliseconds, until it ends.
func await[T any](p *runtime.Poller[T], err error) (T, error) {
	var zero T
	if err != nil {
		return zero, err
	}
	deadline := time.Now().Add(10 * time.Second)
	for !p.Done() {
		if time.Now().After(deadline) {
			return zero, errors.New("poller did not finish in 10 s")
		}
		if _, err := p.Poll(ctx); err != nil {
			return zero, err
		}
		if !p.Done() {
			time.Sleep(2 * time.Millisecond)
		}
	}
	return p.Result(ctx)
}

// outcome is a call's result, to be checked with must.
type outcome[T any] struct {
	v   T
	err error
}

func try[T any](v T, err error) outcome[T] { return outcome[T]{v, err} }

// must fails the test on error and returns the value.
func (o outcome[T]) must(t testing.TB) T {
	t.Helper()
	if o.err != nil {
		t.Fatal(o.err)
	}
	return o.v
}

// armFailure is what a caller can show of an ARM error.
type armFailure struct {
	Status  int
	Code    string
	Message string
}

// failure reads status, code and the body's message from an ARM error.
func failure(t testing.TB, err error) armFailure {
	t.Helper()
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("want *azcore.ResponseError, got %T: %v", err, err)
	}
	body, rerr := io.ReadAll(re.RawResponse.Body)
	if rerr != nil {
		t.Fatal(rerr)
	}
	var e struct {
		Error struct{ Code, Message string }
	}
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("error body %q: %v", body, err)
	}
	if e.Error.Code != re.ErrorCode {
		t.Errorf("body code %q, ErrorCode %q", e.Error.Code, re.ErrorCode)
	}
	return armFailure{re.StatusCode, re.ErrorCode, e.Error.Message}
}

// wantFailure checks err is an ARM error with this status and code whose
// message contains fragment.
func wantFailure(t testing.TB, err error, status int, code, fragment string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want %d %s, got success", status, code)
	}
	f := failure(t, err)
	if f.Status != status || f.Code != code || !strings.Contains(f.Message, fragment) {
		t.Fatalf("got %d %s %q, want %d %s containing %q", f.Status, f.Code, f.Message, status, code, fragment)
	}
}

// subnetID reads a default subnet's ID, once per test (not safe for concurrent use).
func (k *kit) subnetID(region, subnet string) string {
	if id, found := k.subnetIDs[region+"/"+subnet]; found {
		return id
	}
	s := try(k.subnets.Get(ctx, k.rg, "vnet-"+region, subnet, nil)).must(k.t)
	k.subnetIDs[region+"/"+subnet] = *s.ID
	return *s.ID
}

// network creates what a workstation needs before its VM — security group,
// public IP, NIC — and returns the NIC's ID.
func (k *kit) network(name, region string) string {
	k.t.Helper()
	nsg := try(await(k.nsgs.BeginCreateOrUpdate(ctx, k.rg, name+"-nsg", nsgParams(region), nil))).must(k.t)
	pip := try(await(k.pips.BeginCreateOrUpdate(ctx, k.rg, name+"-ip", pipParams(region), nil))).must(k.t)
	nic := try(await(k.nics.BeginCreateOrUpdate(ctx, k.rg, name+"-nic",
		nicParams(region, k.subnetID(region, "workstations"), *nsg.ID, *pip.ID), nil))).must(k.t)
	return *nic.ID
}

// bareNIC creates a NIC with no public IP or security group in a subnet.
func (k *kit) bareNIC(name, region, subnet string) string {
	k.t.Helper()
	nic := try(await(k.nics.BeginCreateOrUpdate(ctx, k.rg, name, nicParams(region, k.subnetID(region, subnet), "", ""), nil))).must(k.t)
	return *nic.ID
}

// workstation creates a running VM with its network.
func (k *kit) workstation(name, region, size string) armcompute.VirtualMachine {
	k.t.Helper()
	nicID := k.network(name, region)
	return try(await(k.vms.BeginCreateOrUpdate(ctx, k.rg, name, vmParams(name, region, size, nicID), nil))).must(k.t).VirtualMachine
}

// states reads a VM's provisioning and power state from its instance view,
// as "succeeded/running"; a missing power state reads as "-".
func (k *kit) states(name string) string {
	k.t.Helper()
	iv := try(k.vms.InstanceView(ctx, k.rg, name, nil)).must(k.t)
	return statesOf(iv.Statuses)
}

func statesOf(statuses []*armcompute.InstanceViewStatus) string {
	prov, power := "", "-"
	for _, s := range statuses {
		if p, found := strings.CutPrefix(*s.Code, "ProvisioningState/"); found {
			prov = p
		} else if p, found := strings.CutPrefix(*s.Code, "PowerState/"); found {
			power = p
		}
	}
	return prov + "/" + power
}

func (k *kit) usageOf(region, name string) int {
	k.t.Helper()
	pager := k.usage.NewListPager(region, nil)
	for pager.More() {
		page := try(pager.NextPage(ctx)).must(k.t)
		for _, u := range page.Value {
			if *u.Name.Value == name {
				return int(*u.CurrentValue)
			}
		}
	}
	k.t.Fatalf("no usage %s in %s", name, region)
	return 0
}

func nsgParams(region string) armnetwork.SecurityGroup {
	return armnetwork.SecurityGroup{
		Location: to.Ptr(region),
		Tags:     map[string]*string{"instancehub": to.Ptr("true")},
		Properties: &armnetwork.SecurityGroupPropertiesFormat{SecurityRules: []*armnetwork.SecurityRule{{
			Name: to.Ptr("ssh"),
			Properties: &armnetwork.SecurityRulePropertiesFormat{
				Priority: to.Ptr[int32](1000), Direction: to.Ptr(armnetwork.SecurityRuleDirectionInbound),
				Access: to.Ptr(armnetwork.SecurityRuleAccessAllow), Protocol: to.Ptr(armnetwork.SecurityRuleProtocolTCP),
				SourceAddressPrefix: to.Ptr("*"), SourcePortRange: to.Ptr("*"),
				DestinationAddressPrefix: to.Ptr("*"), DestinationPortRange: to.Ptr("22"),
			},
		}}},
	}
}

func pipParams(region string) armnetwork.PublicIPAddress {
	return armnetwork.PublicIPAddress{
		Location:   to.Ptr(region),
		SKU:        &armnetwork.PublicIPAddressSKU{Name: to.Ptr(armnetwork.PublicIPAddressSKUNameStandard)},
		Properties: &armnetwork.PublicIPAddressPropertiesFormat{PublicIPAllocationMethod: to.Ptr(armnetwork.IPAllocationMethodStatic)},
	}
}

func nicParams(region, subnetID, nsgID, pipID string) armnetwork.Interface {
	ipc := &armnetwork.InterfaceIPConfigurationPropertiesFormat{
		Subnet:                    &armnetwork.Subnet{ID: to.Ptr(subnetID)},
		PrivateIPAllocationMethod: to.Ptr(armnetwork.IPAllocationMethodDynamic),
	}
	nic := armnetwork.Interface{
		Location: to.Ptr(region),
		Properties: &armnetwork.InterfacePropertiesFormat{
			IPConfigurations: []*armnetwork.InterfaceIPConfiguration{{Name: to.Ptr("ipconfig1"), Properties: ipc}},
		},
	}
	if pipID != "" {
		ipc.PublicIPAddress = &armnetwork.PublicIPAddress{ID: to.Ptr(pipID)}
	}
	if nsgID != "" {
		nic.Properties.NetworkSecurityGroup = &armnetwork.SecurityGroup{ID: to.Ptr(nsgID)}
	}
	return nic
}

const cloudInit = "#cloud-config\npackages: [jupyterlab]\n"

func vmParams(name, region, size, nicID string) armcompute.VirtualMachine {
	return armcompute.VirtualMachine{
		Location: to.Ptr(region),
		Tags:     map[string]*string{"owner": to.Ptr("ada"), "instance": to.Ptr(name)},
		Properties: &armcompute.VirtualMachineProperties{
			HardwareProfile: &armcompute.HardwareProfile{VMSize: to.Ptr(armcompute.VirtualMachineSizeTypes(size))},
			StorageProfile: &armcompute.StorageProfile{
				ImageReference: &armcompute.ImageReference{Publisher: to.Ptr("microsoft-dsvm"), Offer: to.Ptr("ubuntu-2204"),
					SKU: to.Ptr("2204-gen2"), Version: to.Ptr("latest")},
				OSDisk: &armcompute.OSDisk{CreateOption: to.Ptr(armcompute.DiskCreateOptionTypesFromImage),
					DeleteOption: to.Ptr(armcompute.DiskDeleteOptionTypesDelete),
					ManagedDisk:  &armcompute.ManagedDiskParameters{StorageAccountType: to.Ptr(armcompute.StorageAccountTypesPremiumLRS)}},
			},
			OSProfile: &armcompute.OSProfile{
				ComputerName:  to.Ptr(name),
				AdminUsername: to.Ptr("azureuser"),
				CustomData:    to.Ptr(base64.StdEncoding.EncodeToString([]byte(cloudInit))),
				LinuxConfiguration: &armcompute.LinuxConfiguration{
					DisablePasswordAuthentication: to.Ptr(true),
					SSH: &armcompute.SSHConfiguration{PublicKeys: []*armcompute.SSHPublicKey{{
						Path: to.Ptr("/home/azureuser/.ssh/authorized_keys"), KeyData: to.Ptr("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample ada"),
					}}},
				},
			},
			NetworkProfile: &armcompute.NetworkProfile{NetworkInterfaces: []*armcompute.NetworkInterfaceReference{{
				ID:         to.Ptr(nicID),
				Properties: &armcompute.NetworkInterfaceReferenceProperties{Primary: to.Ptr(true), DeleteOption: to.Ptr(armcompute.DeleteOptionsDelete)},
			}}},
		},
	}
}

func vmID(e *emulator.Emulator, name string) string {
	return fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/virtualMachines/%s", e.SubscriptionID(), e.ResourceGroup(), name)
}
