package emulator_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v8"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v9"

	"github.com/instancehub/instancehub/azure/emulator"
)

// The scale benchmarks seed a cloud of instances as the portal makes them —
// security group, network interface, VM — through the SDK clients, at
// latency 0, kept in a file as the portal keeps it. They run with
// -bench=Scale only: seeding 10,000 instances takes a while.
var scaleN = flag.Int("scale", 10_000, "instances the scale benchmarks seed")

// scaleQuota lets a region hold any number of one-core VMs.
var scaleQuota = map[string]map[string]int{"eastus": {"cores": 1 << 30, "standardDSv2Family": 1 << 30}}

// BenchmarkScale measures, at N instances: the heap each instance takes,
// one create (security group, NIC and VM, each polled to the end), and
// the status listing of every VM that the portal's Refresh makes. A create
// must cost the same at N as on an empty cloud: compare with
// BenchmarkScaleCreateEmpty.
func BenchmarkScale(b *testing.B) {
	n := *scaleN
	k := newScaleKit(b)
	before := heap()
	start := time.Now()
	for i := range n {
		k.instance(fmt.Sprintf("ws%05d", i))
	}
	seeded := time.Since(start)
	perInstance := float64(heap()-before) / float64(n)
	b.Logf("seeded %d instances in %s (%.2f ms each), %.0f heap bytes each", n, seeded.Round(time.Millisecond),
		float64(seeded.Microseconds())/1000/float64(n), perInstance)
	start = time.Now()
	k = k.reopen(b)
	opened := time.Since(start)
	reloaded := float64(heap()-before) / float64(n)
	b.Logf("reopened in %s: %.0f heap bytes each; process RSS %s", opened.Round(time.Millisecond), reloaded, rss())

	b.Run(fmt.Sprintf("create/N=%d", n), func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			k.instance(fmt.Sprintf("new%05d", i))
		}
		b.ReportMetric(perInstance, "heapB/instance")
		b.ReportMetric(reloaded, "heapB/reloaded-instance")
	})
	b.Run(fmt.Sprintf("refresh/N=%d", n), func(b *testing.B) {
		for b.Loop() {
			if got := k.statuses(); got < n {
				b.Fatalf("listed %d VMs, want at least %d", got, n)
			}
		}
	})
	// The portal reads its shared network before each create; the network
	// lists every IP configuration in its subnets, as ARM's does.
	b.Run(fmt.Sprintf("network/N=%d", n), func(b *testing.B) {
		for b.Loop() {
			try(k.vnets.Get(ctx, k.rg, "scale", nil)).must(b)
		}
	})
	b.Run(fmt.Sprintf("get/N=%d", n), func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			try(k.vms.Get(ctx, k.rg, fmt.Sprintf("ws%05d", i%n), nil)).must(b)
		}
	})
}

// BenchmarkScaleCreateEmpty is one create on a cloud with no instances yet.
func BenchmarkScaleCreateEmpty(b *testing.B) {
	k := newScaleKit(b)
	for i := 0; b.Loop(); i++ {
		k.instance(fmt.Sprintf("new%05d", i))
	}
}

// scaleKit is a kit with a network large enough for every instance.
type scaleKit struct {
	*kit
	subnetID string
	path     string
}

func newScaleKit(b *testing.B) *scaleKit {
	path := filepath.Join(b.TempDir(), "cloud.db")
	k := newKit(b, emulator.Options{Path: path, Quota: scaleQuota})
	vnet := armnetwork.VirtualNetwork{Location: to.Ptr("eastus"), Properties: &armnetwork.VirtualNetworkPropertiesFormat{
		AddressSpace: &armnetwork.AddressSpace{AddressPrefixes: to.SliceOfPtrs("10.100.0.0/16")},
		Subnets: []*armnetwork.Subnet{{Name: to.Ptr("all"),
			Properties: &armnetwork.SubnetPropertiesFormat{AddressPrefix: to.Ptr("10.100.0.0/16")}}},
	}}
	created := try(await(k.vnets.BeginCreateOrUpdate(ctx, k.rg, "scale", vnet, nil))).must(b)
	return &scaleKit{kit: k, subnetID: *created.Properties.Subnets[0].ID, path: path}
}

// reopen closes the emulator and opens its file again, as a restarted
// portal does.
func (k *scaleKit) reopen(b *testing.B) *scaleKit {
	path := k.path
	if err := k.e.Close(); err != nil {
		b.Fatal(err)
	}
	k.kit = nil
	return &scaleKit{kit: newKit(b, emulator.Options{Path: path, Quota: scaleQuota}), subnetID: k.subnetID, path: path}
}

// instance makes what the portal makes for one instance, in its order.
func (k *scaleKit) instance(name string) {
	t := k.t
	nsg := try(await(k.nsgs.BeginCreateOrUpdate(ctx, k.rg, name+"-nsg", nsgParams("eastus"), nil))).must(t)
	nic := try(await(k.nics.BeginCreateOrUpdate(ctx, k.rg, name+"-nic", nicParams("eastus", k.subnetID, *nsg.ID, ""), nil))).must(t)
	try(await(k.vms.BeginCreateOrUpdate(ctx, k.rg, name, vmParams(name, "eastus", "Standard_DS1_v2", *nic.ID), nil))).must(t)
}

// statuses lists every VM's status as the portal's Refresh does, and
// counts them.
func (k *scaleKit) statuses() int {
	n := 0
	pager := k.vms.NewListAllPager(&armcompute.VirtualMachinesClientListAllOptions{StatusOnly: to.Ptr("true")})
	for pager.More() {
		n += len(try(pager.NextPage(ctx)).must(k.t).Value)
	}
	return n
}

// rss is the process's resident memory, as Linux counts it.
func rss() string {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for line := range strings.Lines(string(status)) {
		if rest, found := strings.CutPrefix(line, "VmRSS:"); found {
			return strings.TrimSpace(rest)
		}
	}
	return "unknown"
}

// heap is the live heap after collections: two, as pools empty over two.
func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
