package azure_test

import (
	"context"
	"testing"

	"github.com/instancehub/instancehub"
)

// TestUpstream: the applications of an instance are on its private address,
// Jupyter's on 8888 and RStudio's on 8787, behind its own secret; RStudio
// where it cannot work, and an instance without an address, say why.
func TestUpstream(t *testing.T) {
	a := subscription(t, map[string]string{
		"GET /resourceGroups/rg-1/providers/Microsoft.Network/virtualNetworks/vnet-1": `{"name":"vnet-1","properties":{"subnets":[{"name":"private","properties":{"defaultOutboundAccess":false}},{"name":"open","properties":{}}]}}`,
	})
	c := loopbackCloud(t, a)
	ctx := context.Background()
	inst := &instancehub.Instance{Name: "u-box", Region: "eastus", VirtualNetwork: "vnet-1", Subnet: "open", PrivateIP: "10.200.0.7", AppSecret: "s3cret"}
	for slug, want := range map[string]string{
		"jupyterlab": "http://10.200.0.7:8888/", "jupyter": "http://10.200.0.7:8888/",
		"terminal": "http://10.200.0.7:8888/", "rstudio": "http://10.200.0.7:8787/",
	} {
		base, secret, err := c.Upstream(ctx, inst, instancehub.Application{Slug: slug})
		if err != nil || base.String() != want || secret != "s3cret" {
			t.Errorf("%s: %v %q %v, want %s", slug, base, secret, err, want)
		}
	}
	if _, _, err := c.Upstream(ctx, inst, instancehub.Application{Slug: "vscode"}); instancehub.ErrorCode(err) != instancehub.ENOTFOUND {
		t.Errorf("an unknown application: %v", err)
	}
	private := *inst
	private.Subnet = "private"
	if _, _, err := c.Upstream(ctx, &private, instancehub.Application{Slug: "rstudio"}); instancehub.ErrorCode(err) != instancehub.EUNAVAILABLE {
		t.Errorf("RStudio without a way out: %v", err)
	}
	bare := *inst
	bare.PrivateIP = ""
	if _, _, err := c.Upstream(ctx, &bare, instancehub.Application{Slug: "jupyter"}); instancehub.ErrorCode(err) != instancehub.EUNAVAILABLE {
		t.Errorf("no private address: %v", err)
	}
}
