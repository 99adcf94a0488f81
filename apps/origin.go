package apps

import (
	"net"
	"strings"

	"github.com/instancehub/instancehub"
)

// origins names the origin of each application: <instance>--<app>.<domain>.
// An origin per instance and application keeps notebook output, which runs
// any JavaScript its author wrote, away from the portal's pages and from the
// applications of every other instance.
type origins struct {
	scheme string // "http" or "https"
	domain string // lower case, without port
	port   string // "" for the scheme's default
}

func newOrigins(scheme, domain string) (origins, error) {
	if scheme != "http" && scheme != "https" {
		return origins{}, instancehub.Errorf(instancehub.EINVALID, "The applications' scheme must be http or https, not %q.", scheme)
	}
	o := origins{scheme: scheme, domain: strings.ToLower(domain)}
	if strings.Contains(o.domain, ":") {
		host, port, err := net.SplitHostPort(o.domain)
		if err != nil || !isPort(port) {
			return origins{}, instancehub.Errorf(instancehub.EINVALID, "The applications' domain %q is not a host name with an optional port.", domain)
		}
		o.domain, o.port = host, port
	}
	if o.domain == "" || strings.HasPrefix(o.domain, ".") || strings.HasSuffix(o.domain, ".") {
		return origins{}, instancehub.Errorf(instancehub.EINVALID, "The applications' domain %q is not a host name.", domain)
	}
	return o, nil
}

// host is the host, with port, of an instance's application.
func (o origins) host(name, slug string) string {
	h := strings.ToLower(name) + "--" + slug + "." + o.domain
	if o.port != "" {
		h = net.JoinHostPort(h, o.port)
	}
	return h
}

// origin is what a browser sends as Origin from a page served on host.
func (o origins) origin(host string) string { return o.scheme + "://" + strings.ToLower(host) }

// parse returns the instance and application a request's Host names. It is
// strict: one label under the domain, a valid instance name, "--", a known
// application, then an optional port; anything else names nothing. Instance
// names may themselves hold "--", application slugs never do, so the last
// "--" splits them.
func (o origins) parse(host string) (name, slug string, ok bool) {
	host, _, ok = cutPort(host)
	if !ok {
		return "", "", false
	}
	label, found := strings.CutSuffix(host, "."+o.domain)
	if !found || strings.Contains(label, ".") {
		return "", "", false
	}
	i := strings.LastIndex(label, "--")
	if i < 0 {
		return "", "", false
	}
	name, slug = label[:i], label[i+2:]
	if instancehub.ValidateName(name) != nil {
		return "", "", false
	}
	if app, known := instancehub.FindApplication(slug); !known || app.Slug != slug {
		return "", "", false
	}
	return name, slug, true
}

// cutPort returns host in lower case without its port; ok is false when
// what follows the last colon is not a port.
func cutPort(host string) (h, port string, ok bool) {
	host = strings.ToLower(host)
	i := strings.LastIndexByte(host, ':')
	if i < 0 {
		return host, "", true
	}
	return host[:i], host[i+1:], isPort(host[i+1:])
}

func isPort(s string) bool {
	if s == "" || len(s) > 5 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
