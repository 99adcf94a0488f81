package main

import (
	"crypto/rand"
	"log/slog"
	"net"
	"net/http"
	"net/url"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/apps"
	"github.com/instancehub/instancehub/localapps"
)

// openApplications returns the applications gateway: each instance's
// applications on an origin of their own under the applications' domain
// (by default apps.localhost on the portal's port, which browsers resolve to
// this machine), proxied to upstreams. refuse writes its refusals in the
// portal's look; portal is the portal's own base URL.
func openApplications(c Config, service *instancehub.Service, upstreams instancehub.ApplicationUpstreams,
	portal *url.URL, refuse func(http.ResponseWriter, *http.Request, int, string), log *slog.Logger) (*apps.Gateway, error) {
	// The Terminal opens Jupyter's first terminal, made on first use: the
	// classic Notebook server offline, JupyterLab on Azure's image.
	landing := map[string]string{"terminal": "/terminals/new/1"}
	if c.Azure.SubscriptionID != "" {
		landing["terminal"] = "/lab/terminals/1"
	}
	domain := c.AppsDomain
	if domain == "" {
		domain = "apps.localhost"
		if _, port, err := net.SplitHostPort(portal.Host); err == nil {
			domain += ":" + port
		}
	}
	// A key per start: a restart only asks open applications to be opened
	// again from the portal.
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return apps.New(apps.Config{
		Domain: domain, Scheme: portal.Scheme, Key: key, Service: service, Upstreams: upstreams,
		Refuse: refuse, Logger: log, Landing: landing,
		PortalOpen: func(name, slug string) string {
			return portal.JoinPath("instances", name, "apps", slug, "/").String()
		},
	})
}

// offlineGateway is the gateway in front of the offline emulator's Jupyter
// servers: revoking an instance's applications also stops its server.
type offlineGateway struct {
	*apps.Gateway
	servers *localapps.Servers
}

func (g offlineGateway) Revoke(name string) {
	g.Gateway.Revoke(name)
	go g.servers.Stop(name) // waits for the processes to end
}
