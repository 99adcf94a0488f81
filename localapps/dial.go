package localapps

import (
	"context"
	"net"
	"strings"

	"github.com/instancehub/instancehub"
)

// sandboxDomain ends the host names of sandboxed servers, under the
// .invalid domain that no resolver answers for.
const sandboxDomain = ".sandbox.invalid"

// DialContext connects the gateway to the server an upstream URL of
// Upstream names: a sandboxed server through its Unix socket, which
// nothing but the portal reaches; an unsandboxed one (Config.Unsafe) on
// its loopback port. It is the gateway's dialer (apps.Config.Dial).
func (s *Servers) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	if !strings.HasSuffix(host, sandboxDomain) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	s.mu.Lock()
	var srv *server
	for _, candidate := range s.servers {
		if candidate.host == host {
			srv = candidate
			break
		}
	}
	s.mu.Unlock()
	if srv == nil {
		return nil, instancehub.Errorf(instancehub.EUNAVAILABLE, "That Jupyter has stopped.")
	}
	return srv.dial(ctx)
}
