package views

import (
	"fmt"
	"strings"

	"github.com/instancehub/instancehub"
)

func sizeChosen(form CreateForm, name string) bool {
	if form.Request.VMSize == "" {
		return strings.EqualFold(name, instancehub.DefaultVMSize)
	}
	return strings.EqualFold(name, form.Request.VMSize)
}

func fitSummary(sizes []instancehub.SizeOption) string {
	fits := 0
	for _, s := range sizes {
		if s.Fits {
			fits++
		}
	}
	if fits == len(sizes) {
		return fmt.Sprintf("%d sizes in this region.", len(sizes))
	}
	return fmt.Sprintf("%d of %d sizes fit the quota in this region now; the others are listed last, with the reason.", fits, len(sizes))
}

func defaultNetworkText(networks []instancehub.VirtualNetwork) string {
	network, subnet, ok := instancehub.DefaultSubnet(networks)
	switch {
	case !ok:
		return "none available"
	case networks[0].Planned:
		return network + " / " + subnet + ", made on first use"
	}
	return network + " / " + subnet
}

// keySummary shortens an SSH key to its type, start and comment.
func keySummary(key string) string {
	f := strings.Fields(key)
	if len(f) < 2 || len(f[1]) < 20 {
		return key
	}
	s := f[0] + " " + f[1][:12] + "…" + f[1][len(f[1])-8:]
	if len(f) > 2 {
		s += " " + strings.Join(f[2:], " ")
	}
	return s
}
