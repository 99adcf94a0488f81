package azure

import (
	"encoding/json"
	"net/url"
	"strings"
)

// CanResume reports whether token, a step's resume token, leads to this
// cloud's Resource Manager: every address in it is on the endpoint's host
// (or a host under it), scheme and port alike. A token issued under another
// configuration cannot be followed: the in-process emulator's, kept by a
// portal moved since to an emulator of its own process (`--emulator-url`),
// leads to an address that never answers, so its step would stay in
// progress for as long as Azure may go unheard (a Stop left Stopping over
// 5 minutes), and the portal's credentials would go there. The engine sends
// such a step again instead (every step is idempotent), which asks the
// instance's resources as they are now.
func (c *Cloud) CanResume(token string) bool {
	var wrapper struct {
		Token map[string]json.RawMessage `json:"token"`
	}
	if err := json.Unmarshal([]byte(token), &wrapper); err != nil || len(wrapper.Token) == 0 {
		return false
	}
	endpoint, err := url.Parse(c.arm.Endpoint())
	if err != nil {
		return false
	}
	for key, raw := range wrapper.Token {
		var address string
		if !strings.HasSuffix(strings.ToLower(key), "url") || json.Unmarshal(raw, &address) != nil || address == "" {
			continue
		}
		u, err := url.Parse(address)
		if err != nil || !sameService(u, endpoint) {
			return false
		}
	}
	return true
}

// sameService reports whether u is on endpoint's service: its scheme and
// port, and its host or one under it.
func sameService(u, endpoint *url.URL) bool {
	host, want := strings.ToLower(u.Hostname()), strings.ToLower(endpoint.Hostname())
	return strings.EqualFold(u.Scheme, endpoint.Scheme) && u.Port() == endpoint.Port() &&
		(host == want || strings.HasSuffix(host, "."+want))
}
