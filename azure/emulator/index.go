package emulator

import (
	"encoding/binary"
	"maps"
	"net/netip"
	"slices"
	"strings"
)

// indexes answer what the rules ask of the whole cloud — who uses this NIC,
// which addresses a subnet has left, how many cores a region holds — without
// scanning every resource: put and remove keep them, so a change costs the
// same with ten instances as with ten thousand.
type indexes struct {
	names   map[string][]string     // type -> keys of its resources, sorted: lists are by name
	running map[string]*resource    // key -> resource with an operation in progress
	owners  map[string]string       // NIC key -> key of the VM it is attached to
	ipUsers map[string]ipUser       // public IP key -> the IP configuration using it
	nsgNICs map[string][]string     // security group key -> keys of the NICs using it
	subnets map[string]*subnetUse   // subnetKey -> the addresses taken in it
	usage   map[string]*regionUsage // region -> what its VMs hold
}

// ipUser is the NIC, and its IP configuration, a public IP is attached to.
type ipUser struct{ nic, config string }

// subnetUse is what a subnet's NICs hold.
type subnetUse struct {
	addrs map[uint32]string // private address -> key of the NIC holding it
	// Every usable address from start up to free is taken: a new NIC's
	// address is searched from free, not from the subnet's start.
	start, free uint32
}

// regionUsage counts the vCPUs of a region's VMs per family and in total
// (TotalCores), and the VMs.
type regionUsage struct {
	cores map[string]int
	vms   int
}

func newIndexes() indexes {
	return indexes{names: map[string][]string{}, running: map[string]*resource{}, owners: map[string]string{},
		ipUsers: map[string]ipUser{}, nsgNICs: map[string][]string{}, subnets: map[string]*subnetUse{},
		usage: map[string]*regionUsage{}}
}

func subnetKey(vnetKey, subnet string) string { return vnetKey + "/" + strings.ToLower(subnet) }

// index adds a live resource to the indexes.
func (x *indexes) index(r *resource) {
	k := r.key
	names := x.names[r.Type]
	if i, found := slices.BinarySearch(names, k); !found {
		x.names[r.Type] = slices.Insert(names, i, k)
	}
	if r.Active != "" {
		x.running[k] = r
	}
	for _, n := range r.NICs {
		x.owners[n.Key] = k
	}
	for _, cfg := range r.IPConfigs {
		x.subnet(cfg.VNet, cfg.Subnet).addrs[ipNumber(cfg.PrivateIP)] = k
		if cfg.PublicIP != "" {
			x.ipUsers[cfg.PublicIP] = ipUser{nic: k, config: cfg.Name}
		}
	}
	if r.NSG != "" {
		x.nsgNICs[r.NSG] = append(x.nsgNICs[r.NSG], k)
	}
	if r.Type == typeVM {
		x.count(r, 1)
	}
}

// unindex takes a resource that is replaced or gone out of the indexes.
func (x *indexes) unindex(r *resource) {
	k := r.key
	if i, found := slices.BinarySearch(x.names[r.Type], k); found {
		x.names[r.Type] = slices.Delete(x.names[r.Type], i, i+1)
	}
	delete(x.running, k)
	for _, n := range r.NICs {
		if x.owners[n.Key] == k {
			delete(x.owners, n.Key)
		}
	}
	for _, cfg := range r.IPConfigs {
		u, ip := x.subnet(cfg.VNet, cfg.Subnet), ipNumber(cfg.PrivateIP)
		if u.addrs[ip] == k {
			delete(u.addrs, ip)
			u.free = min(u.free, ip)
		}
		if cfg.PublicIP != "" && x.ipUsers[cfg.PublicIP].nic == k {
			delete(x.ipUsers, cfg.PublicIP)
		}
	}
	if nics := slices.DeleteFunc(x.nsgNICs[r.NSG], func(nic string) bool { return nic == k }); len(nics) > 0 {
		x.nsgNICs[r.NSG] = nics
	} else {
		delete(x.nsgNICs, r.NSG)
	}
	if r.Type == typeVM {
		x.count(r, -1)
	}
}

// setActive records the kind of operation running on r ("" for none).
func (x *indexes) setActive(r *resource, kind string) {
	r.Active = kind
	if kind == "" {
		delete(x.running, r.key)
	} else {
		x.running[r.key] = r
	}
}

func (x *indexes) count(vm *resource, sign int) {
	u := x.usage[vm.Location]
	if u == nil {
		u = &regionUsage{cores: map[string]int{}}
		x.usage[vm.Location] = u
	}
	s, _ := findSize(vm.Size)
	u.cores[s.Family] += sign * s.VCPUs
	u.cores[TotalCores] += sign * s.VCPUs
	u.vms += sign
}

func (x *indexes) subnet(vnetKey, subnet string) *subnetUse {
	k := subnetKey(vnetKey, subnet)
	u := x.subnets[k]
	if u == nil {
		u = &subnetUse{addrs: map[uint32]string{}}
		x.subnets[k] = u
	}
	return u
}

// lowestFree is the lowest address from start that no NIC holds, for a
// subnet whose usable addresses begin at start.
func (u *subnetUse) lowestFree(start uint32) uint32 {
	if u.start != start { // first search, or the subnet's prefix changed
		u.start, u.free = start, start
	}
	u.free = max(u.free, start)
	for u.addrs[u.free] != "" {
		u.free++
	}
	return u.free
}

// usage counts the vCPUs the VMs of a region hold, per family and in total
// (TotalCores), leaving out the VM with model key except. Every VM that
// exists counts — running, deallocated, failed or being deleted — because
// Azure frees cores only when a VM is gone.
func (c *cloud) usage(region, except string) (cores map[string]int, vms int) {
	cores = map[string]int{}
	if u := c.idx.usage[region]; u != nil {
		cores, vms = maps.Clone(u.cores), u.vms
	}
	if vm := c.Resources[except]; vm != nil && vm.Type == typeVM && vm.Location == region {
		s, _ := findSize(vm.Size)
		cores[s.Family] -= s.VCPUs
		cores[TotalCores] -= s.VCPUs
		vms--
	}
	return cores, vms
}

// sorted lists the resources of a type by name, so lists are stable.
func (c *cloud) sorted(typ string) []*resource {
	keys := c.idx.names[typ]
	out := make([]*resource, len(keys))
	for i, k := range keys {
		out[i] = c.Resources[k]
	}
	return out
}

// nicOwner is the VM a NIC is attached to, if any.
func (c *cloud) nicOwner(nic *resource) *resource {
	return c.Resources[c.idx.owners[nic.key]]
}

// publicIPUser is the NIC, and its IP configuration, a public IP is attached to.
func (c *cloud) publicIPUser(pip *resource) (*resource, string) {
	u, found := c.idx.ipUsers[pip.key]
	if !found {
		return nil, ""
	}
	return c.Resources[u.nic], u.config
}

// nsgUsers are the IDs of the NICs using a security group, by name.
func (c *cloud) nsgUsers(nsg *resource) []string {
	keys := slices.Sorted(slices.Values(c.idx.nsgNICs[nsg.key]))
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = c.id(typeNIC, c.Resources[k].Name)
	}
	return ids
}

// subnetUsers are the IDs of the NIC IP configurations in a subnet, by NIC
// name and in each NIC's order.
func (c *cloud) subnetUsers(vnet *resource, subnet string) []string {
	vnetKey := vnet.key
	u := c.idx.subnets[subnetKey(vnetKey, subnet)]
	if u == nil {
		return nil
	}
	nics := map[string]bool{}
	for _, k := range u.addrs {
		nics[k] = true
	}
	var ids []string
	for _, k := range slices.Sorted(maps.Keys(nics)) {
		n := c.Resources[k]
		for _, cfg := range n.IPConfigs {
			if cfg.VNet == vnetKey && strings.EqualFold(cfg.Subnet, subnet) {
				ids = append(ids, c.id(typeNIC, n.Name)+"/ipConfigurations/"+cfg.Name)
			}
		}
	}
	return ids
}

// ipNumber is an IPv4 address as a number; 0 for anything else.
func ipNumber(s string) uint32 {
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		return 0
	}
	b := a.As4()
	return binary.BigEndian.Uint32(b[:])
}
