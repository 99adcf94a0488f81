package azure_test

import (
	"encoding/json"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v9"
	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/azure/emulator"
)

// azureDefaultInbound are the rules Azure adds under every security
// group's own (Network security groups, "Default security rules").
var azureDefaultInbound = []*armnetwork.SecurityRule{
	defaultRule("AllowVnetInBound", 65000, armnetwork.SecurityRuleAccessAllow, "VirtualNetwork"),
	defaultRule("AllowAzureLoadBalancerInBound", 65001, armnetwork.SecurityRuleAccessAllow, "AzureLoadBalancer"),
	defaultRule("DenyAllInBound", 65500, armnetwork.SecurityRuleAccessDeny, "*"),
}

func defaultRule(name string, priority int32, access armnetwork.SecurityRuleAccess, source string) *armnetwork.SecurityRule {
	return &armnetwork.SecurityRule{Name: to.Ptr(name), Properties: &armnetwork.SecurityRulePropertiesFormat{
		Priority: to.Ptr(priority), Direction: to.Ptr(armnetwork.SecurityRuleDirectionInbound), Access: to.Ptr(access),
		Protocol: to.Ptr(armnetwork.SecurityRuleProtocolAsterisk), SourceAddressPrefix: to.Ptr(source),
		SourcePortRange: to.Ptr("*"), DestinationAddressPrefix: to.Ptr("*"), DestinationPortRange: to.Ptr("*"),
	}}
}

// nsgWorld says which addresses Azure's tags stand for in a test: the
// instances' network and the portal's, peered, are VirtualNetwork.
type nsgWorld struct{ virtualNetwork []netip.Prefix }

// decide is what Azure does with an inbound packet from src to port over
// protocol: the rule of lowest priority number that matches decides, the
// group's own and then Azure's defaults. It returns that rule's name and
// whether it allows.
func (w nsgWorld) decide(t *testing.T, rules []*armnetwork.SecurityRule, src string, protocol string, port int) (string, bool) {
	t.Helper()
	all := slices.Concat(rules, azureDefaultInbound)
	slices.SortFunc(all, func(a, b *armnetwork.SecurityRule) int {
		return int(*a.Properties.Priority - *b.Properties.Priority)
	})
	addr := netip.MustParseAddr(src)
	for _, r := range all {
		p := r.Properties
		if *p.Direction != armnetwork.SecurityRuleDirectionInbound {
			continue
		}
		if proto := string(*p.Protocol); proto != "*" && !strings.EqualFold(proto, protocol) {
			continue
		}
		sources := append(to.SliceOfPtrs(deref(p.SourceAddressPrefix)), p.SourceAddressPrefixes...)
		if !slices.ContainsFunc(sources, func(s *string) bool { return w.addressMatches(t, *s, addr) }) {
			continue
		}
		ports := append(to.SliceOfPtrs(deref(p.DestinationPortRange)), p.DestinationPortRanges...)
		if !slices.ContainsFunc(ports, func(s *string) bool { return portMatches(t, *s, port) }) {
			continue
		}
		return *r.Name, *p.Access == armnetwork.SecurityRuleAccessAllow
	}
	t.Fatalf("no rule matches %s %s:%d", src, protocol, port)
	return "", false
}

func (w nsgWorld) addressMatches(t *testing.T, prefix string, addr netip.Addr) bool {
	t.Helper()
	inNetwork := slices.ContainsFunc(w.virtualNetwork, func(p netip.Prefix) bool { return p.Contains(addr) })
	switch prefix {
	case "":
		return false
	case "*":
		return true
	case "VirtualNetwork":
		return inNetwork
	case "Internet":
		return !inNetwork && !addr.IsPrivate()
	case "AzureLoadBalancer":
		return addr == netip.MustParseAddr("168.63.129.16")
	}
	if p, err := netip.ParsePrefix(prefix); err == nil {
		return p.Contains(addr)
	}
	if a, err := netip.ParseAddr(prefix); err == nil {
		return a == addr
	}
	t.Fatalf("a source this test cannot read: %q", prefix)
	return false
}

func portMatches(t *testing.T, ports string, port int) bool {
	t.Helper()
	if ports == "" {
		return false
	}
	if ports == "*" {
		return true
	}
	lo, hi, isRange := strings.Cut(ports, "-")
	if !isRange {
		hi = lo
	}
	from, err1 := strconv.Atoi(lo)
	to, err2 := strconv.Atoi(hi)
	if err1 != nil || err2 != nil {
		t.Fatalf("a port range this test cannot read: %q", ports)
	}
	return from <= port && port <= to
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// TestSecurityGroupAdmitsOnlyThePortal evaluates the rules the portal sends
// for an instance as Azure does, its default rules included: from the
// network (another instance, a peered network) nothing reaches the VM,
// whatever the port or protocol (JupyterHub's 8000 if disabling it failed,
// a server a user started); the portal's range reaches JupyterLab and
// RStudio and nothing else; SSH comes from the operator's source only, and
// only when the instance has it.
func TestSecurityGroupAdmitsOnlyThePortal(t *testing.T) {
	c, emu := newCloud(t, emulator.Options{}) // portal 10.9.0.0/24, SSH from 203.0.113.0/24
	withSSH, noSSH := instance("open-box", "Standard_DS1_v2", true), instance("shut-box", "Standard_DS1_v2", false)
	for _, inst := range []*instancehub.Instance{withSSH, noSSH} {
		if err := run(t, c, instancehub.OpCreate, inst); err != nil {
			t.Fatal(err)
		}
	}
	rules := func(name string) []*armnetwork.SecurityRule {
		body, _ := emu.RequestBody("networkSecurityGroups", name)
		var group armnetwork.SecurityGroup
		if err := json.Unmarshal(body, &group); err != nil || group.Properties == nil {
			t.Fatalf("NSG %s: %v %s", name, err, body)
		}
		return group.Properties.SecurityRules
	}
	world := nsgWorld{virtualNetwork: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}
	const (
		neighbour = "10.0.0.5"    // another instance of the subnet
		peered    = "10.20.3.4"   // a VM of a peered network
		portal    = "10.9.0.7"    // the portal
		sshFrom   = "203.0.113.9" // the operator's SSH source
		stranger  = "198.51.100.1"
	)
	cases := []struct {
		nsg      string
		src      string
		protocol string
		port     int
		allowed  bool
	}{
		{"open-box-nsg", neighbour, "Tcp", 8000, false}, // JupyterHub
		{"open-box-nsg", neighbour, "Tcp", 8888, false},
		{"open-box-nsg", neighbour, "Tcp", 8787, false},
		{"open-box-nsg", neighbour, "Tcp", 8788, false}, // RStudio itself, were it not on loopback
		{"open-box-nsg", neighbour, "Tcp", 22, false},
		{"open-box-nsg", neighbour, "Tcp", 5000, false}, // a server a user started
		{"open-box-nsg", neighbour, "Udp", 5353, false},
		{"open-box-nsg", neighbour, "Icmp", 0, false},
		{"open-box-nsg", peered, "Tcp", 3000, false},
		{"open-box-nsg", portal, "Tcp", 8888, true},
		{"open-box-nsg", portal, "Tcp", 8787, true},
		{"open-box-nsg", portal, "Tcp", 8000, false},
		{"open-box-nsg", portal, "Tcp", 22, false},
		{"open-box-nsg", sshFrom, "Tcp", 22, true},
		{"open-box-nsg", sshFrom, "Tcp", 8888, false},
		{"open-box-nsg", stranger, "Tcp", 22, false},
		{"open-box-nsg", "168.63.129.16", "Tcp", 80, true}, // Azure's load balancer probes, untouched
		{"shut-box-nsg", sshFrom, "Tcp", 22, false},
		{"shut-box-nsg", neighbour, "Tcp", 8000, false},
		{"shut-box-nsg", portal, "Tcp", 8888, true},
		{"shut-box-nsg", portal, "Tcp", 9999, false},
	}
	for _, tc := range cases {
		rule, allowed := world.decide(t, rules(tc.nsg), tc.src, tc.protocol, tc.port)
		if allowed != tc.allowed {
			t.Errorf("%s: %s to %s %d: allowed %v by %s, want %v", tc.nsg, tc.src, tc.protocol, tc.port, allowed, rule, tc.allowed)
		}
	}
}
