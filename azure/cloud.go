// Package azure implements instancehub.Cloud with the Azure SDK for Go:
// armcompute for virtual machines, sizes and quota, armnetwork for the
// network pieces of a workstation. The same code runs against real Azure and
// against the offline emulator; only the credential and the transport differ.
package azure

import (
	"fmt"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v8"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v9"
	"github.com/instancehub/instancehub"
)

// Image is a marketplace image reference.
type Image struct {
	Publisher, Offer, SKU, Version string
}

// DataScienceVM is the Data Science Virtual Machine for Ubuntu 22.04.
var DataScienceVM = Image{Publisher: "microsoft-dsvm", Offer: "ubuntu-2204", SKU: "2204-gen2", Version: "latest"}

// Config says where and how the portal makes its virtual machines.
type Config struct {
	SubscriptionID string
	ResourceGroup  string
	// Regions are the regions instances may be created in; the first is
	// the default.
	Regions []string
	// PortalID tags every resource the portal makes, so that it never
	// touches anything else.
	PortalID string
	// PublicIP gives instances with SSH access a Standard static public IP.
	PublicIP bool
	// SSHSourceRange is the address range SSH is open to (CIDR or a service tag).
	SSHSourceRange string
	// AppSourceRange is where the portal reaches the applications from.
	AppSourceRange string
	Image          Image
	OSDiskSizeGB   int32
	OSDiskType     string
	// CacheTTL is how long the catalog (sizes, networks) is kept.
	CacheTTL time.Duration
}

func (c *Config) setDefaults() {
	if c.PortalID == "" {
		c.PortalID = "instancehub"
	}
	if c.SSHSourceRange == "" {
		c.SSHSourceRange = "Internet"
	}
	if c.AppSourceRange == "" {
		c.AppSourceRange = "VirtualNetwork"
	}
	if c.Image == (Image{}) {
		c.Image = DataScienceVM
	}
	if c.OSDiskSizeGB == 0 {
		c.OSDiskSizeGB = 128
	}
	if c.OSDiskType == "" {
		c.OSDiskType = string(armcompute.StorageAccountTypesPremiumLRS)
	}
	if c.CacheTTL == 0 {
		c.CacheTTL = 10 * time.Minute
	}
}

// Cloud is instancehub.Cloud over Azure Resource Manager.
type Cloud struct {
	cfg Config

	vms       *armcompute.VirtualMachinesClient
	sizes     *armcompute.VirtualMachineSizesClient
	skus      *armcompute.ResourceSKUsClient
	usage     *armcompute.UsageClient
	vnets     *armnetwork.VirtualNetworksClient
	nics      *armnetwork.InterfacesClient
	publicIPs *armnetwork.PublicIPAddressesClient
	nsgs      *armnetwork.SecurityGroupsClient

	catalog catalog
	refresh refreshGroup
}

var _ instancehub.Cloud = (*Cloud)(nil)

// New returns a Cloud that calls Azure with cred; opts carries the transport
// (the emulator's in offline mode) and the cloud configuration.
func New(cfg Config, cred azcore.TokenCredential, opts *arm.ClientOptions) (*Cloud, error) {
	cfg.setDefaults()
	if cfg.SubscriptionID == "" || cfg.ResourceGroup == "" {
		return nil, fmt.Errorf("azure: subscription ID and resource group are required")
	}
	if len(cfg.Regions) == 0 {
		return nil, fmt.Errorf("azure: at least one region is required")
	}
	compute, err := armcompute.NewClientFactory(cfg.SubscriptionID, cred, opts)
	if err != nil {
		return nil, fmt.Errorf("azure: compute clients: %w", err)
	}
	network, err := armnetwork.NewClientFactory(cfg.SubscriptionID, cred, opts)
	if err != nil {
		return nil, fmt.Errorf("azure: network clients: %w", err)
	}
	c := &Cloud{
		cfg:       cfg,
		vms:       compute.NewVirtualMachinesClient(),
		sizes:     compute.NewVirtualMachineSizesClient(),
		skus:      compute.NewResourceSKUsClient(),
		usage:     compute.NewUsageClient(),
		vnets:     network.NewVirtualNetworksClient(),
		nics:      network.NewInterfacesClient(),
		publicIPs: network.NewPublicIPAddressesClient(),
		nsgs:      network.NewSecurityGroupsClient(),
	}
	c.catalog.ttl = cfg.CacheTTL
	return c, nil
}

// Config returns the configuration the cloud runs with, defaults applied.
func (c *Cloud) Config() Config { return c.cfg }
