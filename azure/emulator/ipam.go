package emulator

import (
	"encoding/binary"
	"net/http"
	"net/netip"
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

// nextFreeIP is the lowest usable address of a subnet no one holds.
func nextFreeIP(s subnetDef, used map[string]bool) (string, error) {
	first, last := usableRange(s)
	for n := first; n <= last; n++ {
		if ip := ipString(n); !used[ip] {
			return ip, nil
		}
	}
	return "", armErr(http.StatusBadRequest, "SubnetIsFull",
		"Subnet %s with address prefix %s does not have enough capacity for 1 IP addresses.", s.Name, s.Prefix)
}

// staticIP checks an address asked for is usable in the subnet and free.
func staticIP(want string, s subnetDef, used map[string]bool) (string, error) {
	a, err := netip.ParseAddr(want)
	first, last := usableRange(s)
	if err != nil || !a.Is4() {
		return "", armErr(http.StatusBadRequest, "PrivateIPAddressNotInSubnet",
			"Private static IP address %s does not belong to the range of subnet prefix %s.", want, s.Prefix)
	}
	b := a.As4()
	if n := binary.BigEndian.Uint32(b[:]); n < first || n > last {
		return "", armErr(http.StatusBadRequest, "PrivateIPAddressNotInSubnet",
			"Private static IP address %s does not belong to the range of subnet prefix %s.", want, s.Prefix)
	}
	if used[a.String()] {
		return "", armErr(http.StatusBadRequest, "PrivateIPAddressInUse",
			"IP configuration is using the private IP address %s which is already allocated to another resource.", want)
	}
	return a.String(), nil
}
