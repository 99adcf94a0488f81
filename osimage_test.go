package instancehub_test

import (
	"testing"

	"github.com/instancehub/instancehub"
)

func TestParseOSImage(t *testing.T) {
	for urn, want := range map[string]*instancehub.OSImage{
		"microsoft-dsvm:ubuntu-hpc:2204:22.04.2025010101":              {Publisher: "microsoft-dsvm", Offer: "ubuntu-hpc", SKU: "2204", Version: "22.04.2025010101"},
		"Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2:latest": {Publisher: "Canonical", Offer: "0001-com-ubuntu-server-jammy", SKU: "22_04-lts-gen2", Version: "latest"},
		"":                          nil,
		"a:b:c":                     nil,
		"a:b:c:d:e":                 nil,
		":b:c:d":                    nil,
		"a::c:d":                    nil,
		"a:b::d":                    nil,
		"a:b:c:":                    nil,
		"a:b:c:d:":                  nil,
		"/subscriptions/x/images/y": nil,
	} {
		img, ok := instancehub.ParseOSImage(urn)
		if ok != (want != nil) {
			t.Errorf("ParseOSImage(%q): ok %v, want %v", urn, ok, want != nil)
			continue
		}
		if want != nil && img != *want {
			t.Errorf("ParseOSImage(%q) = %+v, want %+v", urn, img, *want)
		}
		if ok && img.URN() != urn {
			t.Errorf("ParseOSImage(%q).URN() = %q", urn, img.URN())
		}
	}
}
