package instancehub

import (
	"context"
	"net/url"
)

// ApplicationUpstreams knows where the applications of running instances
// listen. The offline emulator and Azure each implement it; the applications
// gateway proxies to what it returns.
type ApplicationUpstreams interface {
	// Upstream returns the base URL of app's server on the running instance
	// inst, and the instance's own upstream secret, which the gateway sends
	// as the application's token and which never reaches a browser.
	// EUNAVAILABLE, with the reason in words, when the application cannot run
	// there (no Jupyter installed offline, no outbound internet for RStudio);
	// ENOTFOUND when inst does not offer app.
	Upstream(ctx context.Context, inst *Instance, app Application) (base *url.URL, secret string, err error)
}
