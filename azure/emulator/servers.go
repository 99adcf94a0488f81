package emulator

import (
	"context"
	"net/http"

	azfake "github.com/Azure/azure-sdk-for-go/sdk/azcore/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v8"
	computefake "github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v8/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v9"
	networkfake "github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v9/fake"
)

// The fake servers' handlers. The front door has already checked the
// subscription and resource group, so handlers ignore them.

type (
	vmStart      = armcompute.VirtualMachinesClientStartResponse
	vmDeallocate = armcompute.VirtualMachinesClientDeallocateResponse
	vmRestart    = armcompute.VirtualMachinesClientRestartResponse
	vmDelete     = armcompute.VirtualMachinesClientDeleteResponse
)

func computeServers(e *Emulator) *computefake.ServerFactory {
	return &computefake.ServerFactory{
		VirtualMachinesServer: computefake.VirtualMachinesServer{
			BeginCreateOrUpdate: func(_ context.Context, _, name string, vm armcompute.VirtualMachine, _ *armcompute.VirtualMachinesClientBeginCreateOrUpdateOptions) (azfake.PollerResponder[armcompute.VirtualMachinesClientCreateOrUpdateResponse], azfake.ErrorResponder) {
				return e.createOrUpdateVM(name, vm)
			},
			BeginStart: func(_ context.Context, _, name string, _ *armcompute.VirtualMachinesClientBeginStartOptions) (azfake.PollerResponder[vmStart], azfake.ErrorResponder) {
				return action[vmStart](e.vmAction("VirtualMachinesClient.BeginStart", name, kindStart))
			},
			BeginDeallocate: func(_ context.Context, _, name string, _ *armcompute.VirtualMachinesClientBeginDeallocateOptions) (azfake.PollerResponder[vmDeallocate], azfake.ErrorResponder) {
				return action[vmDeallocate](e.vmAction("VirtualMachinesClient.BeginDeallocate", name, kindDeallocate))
			},
			BeginRestart: func(_ context.Context, _, name string, _ *armcompute.VirtualMachinesClientBeginRestartOptions) (azfake.PollerResponder[vmRestart], azfake.ErrorResponder) {
				return action[vmRestart](e.vmAction("VirtualMachinesClient.BeginRestart", name, kindRestart))
			},
			BeginDelete: func(_ context.Context, _, name string, _ *armcompute.VirtualMachinesClientBeginDeleteOptions) (azfake.PollerResponder[vmDelete], azfake.ErrorResponder) {
				return action[vmDelete](e.vmAction("VirtualMachinesClient.BeginDelete", name, kindDelete))
			},
			Get:          e.getVM,
			InstanceView: e.vmInstanceView,
			RetrieveBootDiagnosticsData: func(ctx context.Context, _, name string, opts *armcompute.VirtualMachinesClientRetrieveBootDiagnosticsDataOptions) (azfake.Responder[armcompute.VirtualMachinesClientRetrieveBootDiagnosticsDataResponse], azfake.ErrorResponder) {
				return e.retrieveBootDiagnostics(ctx, name, opts)
			},
			NewListPager:    e.listVMs,
			NewListAllPager: e.listAllVMs,
		},
		VirtualMachineExtensionsServer: computefake.VirtualMachineExtensionsServer{
			BeginCreateOrUpdate: func(_ context.Context, rg, vm, ext string, body armcompute.VirtualMachineExtension, _ *armcompute.VirtualMachineExtensionsClientBeginCreateOrUpdateOptions) (azfake.PollerResponder[armcompute.VirtualMachineExtensionsClientCreateOrUpdateResponse], azfake.ErrorResponder) {
				return e.putExtension(rg, vm, ext, body)
			},
			Get: func(_ context.Context, _, vm, ext string, opts *armcompute.VirtualMachineExtensionsClientGetOptions) (azfake.Responder[armcompute.VirtualMachineExtensionsClientGetResponse], azfake.ErrorResponder) {
				return e.getExtension(vm, ext, opts)
			},
		},
		VirtualMachineSizesServer:  computefake.VirtualMachineSizesServer{NewListPager: e.listSizes},
		ResourceSKUsServer:         computefake.ResourceSKUsServer{NewListPager: e.listSKUs},
		UsageServer:                computefake.UsageServer{NewListPager: e.listUsage},
		VirtualMachineImagesServer: computefake.VirtualMachineImagesServer{List: e.listImageVersions, Get: e.getImage, ListSKUs: e.listImageSKUs, ListOffers: e.listImageOffers},
	}
}

func networkServers(e *Emulator) *networkfake.ServerFactory {
	return &networkfake.ServerFactory{
		SecurityGroupsServer: networkfake.SecurityGroupsServer{
			BeginCreateOrUpdate: func(_ context.Context, _, name string, nsg armnetwork.SecurityGroup, _ *armnetwork.SecurityGroupsClientBeginCreateOrUpdateOptions) (azfake.PollerResponder[armnetwork.SecurityGroupsClientCreateOrUpdateResponse], azfake.ErrorResponder) {
				return lro[armnetwork.SecurityGroupsClientCreateOrUpdateResponse](http.StatusCreated, nil, e.putNSG(name, nsg))
			},
			BeginDelete: func(_ context.Context, _, name string, _ *armnetwork.SecurityGroupsClientBeginDeleteOptions) (azfake.PollerResponder[armnetwork.SecurityGroupsClientDeleteResponse], azfake.ErrorResponder) {
				return action[armnetwork.SecurityGroupsClientDeleteResponse](false, e.deleteNetwork("SecurityGroupsClient.BeginDelete", typeNSG, name))
			},
			Get:          e.getNSG,
			NewListPager: e.listNSGs,
		},
		PublicIPAddressesServer: networkfake.PublicIPAddressesServer{
			BeginCreateOrUpdate: func(_ context.Context, _, name string, pip armnetwork.PublicIPAddress, _ *armnetwork.PublicIPAddressesClientBeginCreateOrUpdateOptions) (azfake.PollerResponder[armnetwork.PublicIPAddressesClientCreateOrUpdateResponse], azfake.ErrorResponder) {
				return lro[armnetwork.PublicIPAddressesClientCreateOrUpdateResponse](http.StatusCreated, nil, e.putPublicIP(name, pip))
			},
			BeginDelete: func(_ context.Context, _, name string, _ *armnetwork.PublicIPAddressesClientBeginDeleteOptions) (azfake.PollerResponder[armnetwork.PublicIPAddressesClientDeleteResponse], azfake.ErrorResponder) {
				return action[armnetwork.PublicIPAddressesClientDeleteResponse](false, e.deleteNetwork("PublicIPAddressesClient.BeginDelete", typePIP, name))
			},
			Get:          e.getPublicIP,
			NewListPager: e.listPublicIPs,
		},
		InterfacesServer: networkfake.InterfacesServer{
			BeginCreateOrUpdate: func(_ context.Context, _, name string, nic armnetwork.Interface, _ *armnetwork.InterfacesClientBeginCreateOrUpdateOptions) (azfake.PollerResponder[armnetwork.InterfacesClientCreateOrUpdateResponse], azfake.ErrorResponder) {
				return lro[armnetwork.InterfacesClientCreateOrUpdateResponse](http.StatusCreated, nil, e.putNIC(name, nic))
			},
			BeginDelete: func(_ context.Context, _, name string, _ *armnetwork.InterfacesClientBeginDeleteOptions) (azfake.PollerResponder[armnetwork.InterfacesClientDeleteResponse], azfake.ErrorResponder) {
				return action[armnetwork.InterfacesClientDeleteResponse](false, e.deleteNetwork("InterfacesClient.BeginDelete", typeNIC, name))
			},
			Get:          e.getNIC,
			NewListPager: e.listNICs,
		},
		VirtualNetworksServer: networkfake.VirtualNetworksServer{
			BeginCreateOrUpdate: func(_ context.Context, _, name string, vnet armnetwork.VirtualNetwork, _ *armnetwork.VirtualNetworksClientBeginCreateOrUpdateOptions) (azfake.PollerResponder[armnetwork.VirtualNetworksClientCreateOrUpdateResponse], azfake.ErrorResponder) {
				return lro[armnetwork.VirtualNetworksClientCreateOrUpdateResponse](http.StatusCreated, nil, e.putVNet(name, vnet))
			},
			BeginDelete: func(_ context.Context, _, name string, _ *armnetwork.VirtualNetworksClientBeginDeleteOptions) (azfake.PollerResponder[armnetwork.VirtualNetworksClientDeleteResponse], azfake.ErrorResponder) {
				return action[armnetwork.VirtualNetworksClientDeleteResponse](false, e.deleteNetwork("VirtualNetworksClient.BeginDelete", typeVNet, name))
			},
			Get:             e.getVNet,
			NewListPager:    e.listVNets,
			NewListAllPager: e.listAllVNets,
		},
		SubnetsServer: networkfake.SubnetsServer{Get: e.getSubnet, NewListPager: e.listSubnets},
	}
}
