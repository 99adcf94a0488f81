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

// ApplicationRestarts is implemented by application upstreams that stop an
// instance's server to make room for another's (the offline emulator's
// Jupyter, --jupyter-max at once at most): its owner is told on the next
// open that what ran there is gone.
type ApplicationRestarts interface {
	// Evicted reports whether inst's server was stopped so since inst last
	// used it, and how many servers run at once at most.
	Evicted(inst *Instance) (max int, ok bool)
}

// ApplicationGateway serves the applications of instances, each on its own
// origin. The web layer calls it from the portal's own origin.
type ApplicationGateway interface {
	// OpenURL checks, as OpenApplication does, that the signed-in user of ctx
	// may open application slug of instance name now, and returns where the
	// browser goes next, on the application's own origin. Without a state
	// (a link on the portal), the origin binds the sign-in to the browser
	// with a cookie and sends it back with the state it made; with that
	// state, the URL signs that browser, and no other, in there once.
	// sessionToken is the portal session's token: the sign-in on the
	// application's origin ends with that session. Errors as OpenApplication,
	// EUNAVAILABLE when the application cannot run on the instance, and
	// EINVALID for a state the origin did not make.
	OpenURL(ctx context.Context, sessionToken, name, slug, state string) (string, error)
	// Revoke rechecks at once the open connections to name's applications
	// and closes those no longer allowed. Call it after a stop, restart,
	// delete or change of owner of the instance.
	Revoke(name string)
}
