package azure

import (
	"context"
	"net"
	"net/url"

	"github.com/instancehub/instancehub"
)

// Upstream says where an application of a running instance listens: on the
// VM's private address, where cloud-init starts Jupyter (JupyterLab,
// Jupyter and its terminals, port 8888, base URL /) and RStudio (8787), each
// behind the instance's own secret. The portal must reach that address: it
// runs in the instances' network or one peered with it (doctor checks).
func (c *Cloud) Upstream(ctx context.Context, inst *instancehub.Instance, app instancehub.Application) (*url.URL, string, error) {
	port := portJupyter
	switch app.Slug {
	case "jupyterlab", "jupyter", "terminal":
	case "rstudio":
		port = portRStudio
		if reason := c.ApplicationUnavailable(ctx, inst, app.Slug); reason != "" {
			return nil, "", instancehub.Errorf(instancehub.EUNAVAILABLE, "%s", reason)
		}
	default:
		return nil, "", instancehub.Errorf(instancehub.ENOTFOUND, "Compute instances offer no application %q.", app.Slug)
	}
	if inst.PrivateIP == "" || inst.AppSecret == "" {
		return nil, "", instancehub.Errorf(instancehub.EUNAVAILABLE,
			"%s has no private address or application secret yet; wait until it runs, or restart it.", inst.Name)
	}
	return &url.URL{Scheme: "http", Host: net.JoinHostPort(inst.PrivateIP, port), Path: "/"}, inst.AppSecret, nil
}

var _ instancehub.ApplicationUpstreams = (*Cloud)(nil)
