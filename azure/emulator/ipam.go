package emulator

import (
	"encoding/binary"
	"net/http"
	"net/netip"
	"strings"
)

// Private addresses. Azure reserves the first four addresses of every subnet
// and the last, so a NIC's first address is x.x.x.4.

// usableRange is the first and last address Azure hands out in a subnet.
func usableRange(s subnetDef) (first, last uint32) {
	p := netip.MustParsePrefix(s.Prefix)
	b := p.Addr().As4()
	base := binary.BigEndian.Uint32(b[:])
	size := uint32(1) << (32 - p.Bits())
	return base + 4, base + size - 2
}

func ipString(n uint32) string {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], n)
	return netip.AddrFrom4(b).String()
}

// addressBook is what NIC r may take in a subnet: addresses no other NIC
// holds and none of r's IP configurations resolved so far. r's own earlier
// version counts as no one, since r replaces it.
type addressBook struct {
	c      *cloud
	r      *resource
	vnet   string // model key
	subnet subnetDef
	use    *subnetUse
}

func (c *cloud) addressBook(r *resource, vnetKey string, s subnetDef) addressBook {
	return addressBook{c: c, r: r, vnet: vnetKey, subnet: s, use: c.idx.subnet(vnetKey, s.Name)}
}

func (b addressBook) free(n uint32) bool {
	if holder := b.use.addrs[n]; holder != "" && holder != key(b.r.Type, b.r.Name) {
		return false
	}
	for _, cfg := range b.r.IPConfigs {
		if cfg.VNet == b.vnet && strings.EqualFold(cfg.Subnet, b.subnet.Name) && ipNumber(cfg.PrivateIP) == n {
			return false
		}
	}
	return true
}

// next is the lowest usable address of the subnet r may take.
func (b addressBook) next() (string, error) {
	first, last := usableRange(b.subnet)
	best, found := uint32(0), false
	// Below the subnet's lowest free address only r's earlier version
	// holds addresses that r may take again.
	if old := b.c.Resources[key(b.r.Type, b.r.Name)]; old != nil {
		for _, cfg := range old.IPConfigs {
			n := ipNumber(cfg.PrivateIP)
			if cfg.VNet == b.vnet && strings.EqualFold(cfg.Subnet, b.subnet.Name) && n >= first && n <= last && b.free(n) && (!found || n < best) {
				best, found = n, true
			}
		}
	}
	for n := b.use.lowestFree(first); n <= last && (!found || n < best); n++ {
		if b.free(n) {
			best, found = n, true
		}
	}
	if !found {
		return "", armErr(http.StatusBadRequest, "SubnetIsFull",
			"Subnet %s with address prefix %s does not have enough capacity for 1 IP addresses.", b.subnet.Name, b.subnet.Prefix)
	}
	return ipString(best), nil
}

// static checks an address asked for is usable in the subnet and free.
func (b addressBook) static(want string) (string, error) {
	a, err := netip.ParseAddr(want)
	first, last := usableRange(b.subnet)
	if err != nil || !a.Is4() {
		return "", armErr(http.StatusBadRequest, "PrivateIPAddressNotInSubnet",
			"Private static IP address %s does not belong to the range of subnet prefix %s.", want, b.subnet.Prefix)
	}
	ab := a.As4()
	n := binary.BigEndian.Uint32(ab[:])
	if n < first || n > last {
		return "", armErr(http.StatusBadRequest, "PrivateIPAddressNotInSubnet",
			"Private static IP address %s does not belong to the range of subnet prefix %s.", want, b.subnet.Prefix)
	}
	if !b.free(n) {
		return "", armErr(http.StatusBadRequest, "PrivateIPAddressInUse",
			"IP configuration is using the private IP address %s which is already allocated to another resource.", want)
	}
	return a.String(), nil
}
