package main

import (
	"context"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/apps"
	"github.com/instancehub/instancehub/localapps"
	"github.com/instancehub/instancehub/static"
)

// openApplications returns the applications gateway: each instance's
// applications on an origin of their own under the applications' domain
// (by default apps.localhost on the portal's port, which browsers resolve to
// this machine), proxied to upstreams. refuse writes its refusals in the
// portal's look; portal is the portal's address as people open it.
func openApplications(c Config, key []byte, spent apps.TicketLedger, service *instancehub.Service, upstreams instancehub.ApplicationUpstreams,
	running func(string) bool, dial func(context.Context, string, string) (net.Conn, error),
	portal *url.URL, refuse func(http.ResponseWriter, *http.Request, int, string), m apps.Metrics, log *slog.Logger) (*apps.Gateway, error) {
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
	// key and spent are shared by every portal on the database (kept in
	// it), so a ticket one replica made opens on whichever the browser
	// reaches, and once only on all of them.
	return apps.New(apps.Config{
		Domain: domain, Scheme: portal.Scheme, Key: key, Service: service, Upstreams: upstreams,
		Refuse: refuse, Logger: log, Landing: landing, Running: running, Spent: spent, Dial: dial, Metrics: m,
		// The gateway calls on its request path: the service notes the
		// time and writes it at most once a minute, off that path.
		Activity: func(name string, at time.Time) {
			go func() {
				if err := service.RecordActivity(context.Background(), name, at); err != nil {
					log.Warn("record activity", "instance", name, "err", err)
				}
			}()
		},
		PortalOpen: func(name, slug, state string) string {
			u := portal.JoinPath("instances", name, "apps", slug, "/")
			u.RawQuery = url.Values{"state": {state}}.Encode()
			return u.String()
		},
	})
}

// openLocalApps returns the offline emulator's Jupyter servers, each in a
// sandbox of its own, and says in the log why they are off when no
// sandbox can be made here, or that they run unsandboxed when asked to.
// The homes of instances deleted while the portal was down go now.
func openLocalApps(ctx context.Context, c Config, instances instancehub.InstanceStore, m localapps.Metrics, log *slog.Logger) (*localapps.Servers, error) {
	cfg, err := c.localApps()
	if err != nil {
		return nil, usageError{err}
	}
	cfg.Terminal, _ = fs.Sub(static.FS, "vendor/xterm")
	cfg.Logger, cfg.Metrics = log, m
	servers := localapps.New(cfg)
	if c.UnsafeLocalApps {
		log.Warn(unsafeLocalApps)
	} else if reason := servers.Check(); reason != "" {
		log.Warn("offline Jupyter and Terminal are off: no sandbox can be made", "reason", reason)
	}
	if err := servers.Prune(ctx, instances.FindInstanceByName); err != nil {
		log.Warn("remove the homes of deleted instances", "err", err)
	}
	return servers, nil
}

// unsafeLocalApps is the warning of every start with --unsafe-local-apps.
const unsafeLocalApps = "--unsafe-local-apps: the offline Jupyter, its kernels and terminals run without a sandbox, " +
	"as the portal's own user: any notebook can read and change the portal's database and configuration, " +
	"its environment's secrets and every user's files. Use it only on a laptop of your own."

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

// followPowerState stops the offline Jupyter server of every instance that is
// no longer running, checked every interval until ctx ends: a stop through
// the portal stops its server at once (offlineGateway.Revoke), but an
// instance stopped or deleted by the sync, by another replica or by an
// operation resumed after a restart is only found here. The homes of
// deleted instances go too.
func followPowerState(ctx context.Context, instances instancehub.InstanceStore, servers *localapps.Servers, interval time.Duration, log *slog.Logger) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if err := servers.Prune(ctx, instances.FindInstanceByName); err != nil {
			log.Warn("remove the homes of deleted instances", "err", err)
		}
		for _, name := range servers.Running() {
			inst, err := instances.FindInstanceByName(ctx, name)
			if err != nil && instancehub.ErrorCode(err) != instancehub.ENOTFOUND {
				log.Warn("power state of an offline instance", "instance", name, "err", err)
				continue
			}
			if err != nil || inst.State != instancehub.StateRunning {
				log.Info("jupyter stopped: its instance is not running", "instance", name)
				servers.Stop(name)
			}
		}
	}
}
