package main

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/azure"
	"github.com/instancehub/instancehub/azure/emulator"
	"github.com/instancehub/instancehub/localapps"
	"github.com/instancehub/instancehub/metrics"
	"github.com/instancehub/instancehub/oidc"
	"github.com/instancehub/instancehub/scheduler"
	"github.com/instancehub/instancehub/static"
	"github.com/instancehub/instancehub/web"
)

func serveCommand(ctx context.Context, args []string, stderr io.Writer) error {
	var c Config
	if err := parse("serve", args, stderr, c.bindServe); err != nil {
		return err
	}
	// Resolved once: what runs beside the portal (Jupyter, in a folder of
	// the data directory) works in a directory of its own, where a
	// relative path would name another place.
	data, err := filepath.Abs(c.Data)
	if err != nil {
		return fmt.Errorf("--data %s: %w", c.Data, err)
	}
	c.Data = data
	if c.DebugAddr == "" {
		// Heap profiles are read only at the operator endpoints: without
		// them, the sampling's buckets (a megabyte or two) are not kept.
		runtime.MemProfileRate = 0
	}
	log := newLogger(stderr, c.LogLevel, c.LogFormat)
	// Whatever the umask, the portal's files are its own alone: the
	// database, the emulator's cloud, the keys in them.
	if err := privateData(c.Data); err != nil {
		return err
	}
	// The lock comes first: a second portal must stop before it touches the
	// database, the emulator's state or the first one's port.
	lock, err := lockData(c.Data)
	if err != nil {
		return err
	}
	defer lock.Release()
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return err
	}
	return serve(ctx, c, ln, log)
}

// serve runs the portal on ln, over a data directory the caller has locked,
// until ctx ends, then shuts down in order: requests first, then the
// operations (which resume on the next start).
func serve(ctx context.Context, c Config, ln net.Listener, log *slog.Logger) error {
	if c.Lease < time.Second || c.Lease > 10*time.Minute {
		return usageError{fmt.Errorf("--lease %s: give 1s to 10m", c.Lease)}
	}
	if _, err := c.publicURL(nil); err != nil {
		return usageError{err}
	}
	if err := c.checkBackupFlags(); err != nil {
		return usageError{err}
	}
	db, err := openStore(ctx, c, log)
	if err != nil {
		return err
	}
	defer db.Close()
	// The portal's figures, served on the operator endpoints (--debug-addr).
	replica := instancehub.NewReplicaName()
	figures := metrics.New(metrics.Options{Replica: replica})
	db.Metrics = figures
	figures.WatchDatabase(db.Stats)

	if c.PollInterval == 0 {
		c.PollInterval = defaultPollInterval(c)
	}
	cloud, prices, closeCloud, err := openCloud(c, figures, log)
	if err != nil {
		return err
	}
	defer closeCloud()

	engine := &instancehub.Engine{
		Instances: db, Cloud: cloud, Logger: log,
		PollInterval: c.PollInterval, SyncInterval: c.SyncInterval,
		// On SQLite this portal, which holds the data directory's lock, is
		// the only one: it takes over what a crash left at once.
		Exclusive: c.Database == "", LeaseFor: c.Lease, Replica: replica, Metrics: figures,
	}
	roleMap, err := c.roleMap()
	if err != nil {
		return err
	}
	proxies, err := c.trustedProxies()
	if err != nil {
		return err
	}
	identity, err := openIdentity(ctx, c, log)
	if err != nil {
		return err
	}
	if len(roleMap) > 0 {
		log.Info("single sign-on groups give roles", "role_map", instancehub.FormatRoleMap(roleMap))
	}
	service := &instancehub.Service{
		Instances: db, Users: db, Sessions: db, Tokens: db, Roles: db, Audit: db, Throttle: db, Quotas: db, Automation: db,
		Cloud: cloud, Engine: engine, Logger: log, RoleMap: roleMap, Prices: prices, RunningTimes: db,
		UserAssignedIdentities: c.identities(), ArchiveDir: filepath.Join(c.Data, "audit-archives"), Metrics: figures,
	}
	figures.WatchQuota(service.QuotaUse)
	// Each sync adopts the VMs of the portal that no record names: after a
	// restore, those made since the backup.
	engine.Adopter = service
	if !c.Adopt {
		if err := checkRecords(ctx, service); err != nil {
			return err
		}
	}
	if err := firstUser(ctx, service, c.AdminEmail, log); err != nil {
		return err
	}
	if c.Adopt {
		if err := adopt(ctx, service, log); err != nil {
			return err
		}
	}
	sealKey, err := db.PortalKey(ctx, "sealed-cookies")
	if err != nil {
		return err
	}
	appsKey, err := db.PortalKey(ctx, "applications")
	if err != nil {
		return err
	}
	if err := engine.Start(ctx); err != nil {
		return err
	}
	defer engine.Stop()
	// Prices are read now, so that the first create form need not wait.
	for _, region := range cloud.Config().Regions {
		go prices.Prices(ctx, region)
	}

	if c.BackupEvery > 0 {
		go scheduledBackups(ctx, c, log)
	}

	stopDebug, err := serveDebug(ctx, c.DebugAddr, figures.Handler(), log)
	if err != nil {
		return err
	}
	defer stopDebug()

	if _, err := fs.Stat(static.FS, "vendor/htmx.min.js"); err != nil {
		log.Warn("htmx is missing from static/vendor; build with `make` so pages update in place")
	}
	scheme := "http"
	if c.TLSCert != "" || c.TLSKey != "" {
		cert, err := loadCertificate(c.TLSCert, c.TLSKey)
		if err != nil {
			return err
		}
		ln, scheme = cert.listen(ln), "https"
	}
	// Applications run on the instances; offline, on Jupyter servers of
	// this machine, one per instance opened.
	var upstreams instancehub.ApplicationUpstreams = cloud
	var servers *localapps.Servers
	if c.Azure.SubscriptionID == "" {
		if servers, err = openLocalApps(ctx, c, service.Instances, figures, log); err != nil {
			return err
		}
		figures.WatchSandboxes(func() int { return len(servers.Running()) })
		defer servers.Close()
		upstreams, service.Applications = servers, servers
	}
	var server *web.Server
	refuse := func(w http.ResponseWriter, r *http.Request, status int, message string) {
		server.RefuseApplication(w, r, status, message)
	}
	var running func(string) bool
	var dial func(context.Context, string, string) (net.Conn, error)
	if servers != nil {
		running, dial = servers.Serving, servers.DialContext
	}
	public, err := c.publicURL(&url.URL{Scheme: scheme, Host: ln.Addr().String()})
	if err != nil {
		return usageError{err}
	}
	gw, err := openApplications(c, appsKey, db, service, upstreams, running, dial, public, refuse, figures, log)
	if err != nil {
		return err
	}
	defer gw.Close()
	service.Probe = gw
	// The schedules and idle shutdown run beside the engine, once the
	// probe that tells an idle instance from one in use is set.
	sched := &scheduler.Scheduler{Store: db, Operations: engine, Service: service, Logger: log}
	sched.Start(ctx)
	defer sched.Stop()
	var gateway web.Applications = gw
	if servers != nil {
		gateway = offlineGateway{Gateway: gw, servers: servers}
		go followPowerState(ctx, service.Instances, servers, 15*time.Second, log)
	}
	server = web.New(web.Config{
		SealKey: sealKey,
		// People open it over TLS when its address says so, whatever
		// terminates it: its cookies are then Secure and __Host-, as the
		// applications' are (their scheme is the same address's).
		Workspace: c.Workspace, SecureCookies: c.SecureCookies || public.Scheme == "https", Static: static.FS, Logger: log,
		LocalAccounts: c.LocalAccounts, Identity: identity, TrustedProxies: proxies, Applications: gateway,
		Hosts: c.portalHosts(public), Metrics: figures,
	}, service)
	errc := make(chan error, 1)
	go func() { errc <- server.Serve(ln) }()
	log.Info("serving the portal", "url", scheme+"://"+ln.Addr().String(), "data", c.Data, "replica", engine.Replica)
	// Starting leaves garbage the heap would keep until its next
	// collection, which an idle portal may never reach: the first Owner's
	// password hash alone takes 19 MiB (argon2id). Give it back now.
	debug.FreeOSMemory()
	go newIdleRelease(20*time.Second, 256<<20).run(ctx)

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	log.Info("shutting down")
	return server.Shutdown(shutdown)
}

// openCloud returns Azure and its prices, or the offline emulator and its
// price list when no subscription is configured (in this process, or
// another's with --emulator-url): the same clients and code either way.
func openCloud(c Config, m azure.Metrics, log *slog.Logger) (*azure.Cloud, *azure.RetailPrices, func(), error) {
	prices := azure.PricesConfig{URL: c.PricesURL, Logger: log}
	if c.Azure.SubscriptionID == "" && c.EmulatorURL != "" {
		remote, err := emulator.Dial(context.Background(), c.EmulatorURL, c.EmulatorCA)
		if err != nil {
			return nil, nil, nil, err
		}
		cfg, err := c.azureConfig(remote.SubscriptionID, remote.ResourceGroup, remote.Regions)
		if err != nil {
			return nil, nil, nil, err
		}
		cfg.Metrics = m
		cloud, err := azure.New(cfg, remote.Credential(), remote.ClientOptions())
		if err != nil {
			return nil, nil, nil, err
		}
		log.Info("using the emulator of another process", "url", c.EmulatorURL, "regions", remote.Regions)
		prices.URL, prices.Client, prices.Source = remote.PricesURL(), remote.HTTPClient(), instancehub.SourceEmulator
		return cloud, azure.NewRetailPrices(prices), func() {}, nil
	}
	if c.Azure.SubscriptionID == "" {
		quota, err := c.emulatorQuota()
		if err != nil {
			return nil, nil, nil, err
		}
		emu, err := emulator.Open(emulator.Options{
			Path:    filepath.Join(c.Data, "emulator.db"),
			Import:  filepath.Join(c.Data, "emulator.json"), // where earlier versions kept it
			Latency: c.EmulatorLatency,
			Quota:   quota,
		})
		if err != nil {
			return nil, nil, nil, fmt.Errorf("open the emulator: %w", err)
		}
		cfg, err := c.azureConfig(emu.SubscriptionID(), emu.ResourceGroup(), emu.Regions())
		if err != nil {
			emu.Close()
			return nil, nil, nil, err
		}
		cfg.Metrics = m
		cloud, err := azure.New(cfg, emu.Credential(), emu.ClientOptions())
		if err != nil {
			emu.Close()
			return nil, nil, nil, err
		}
		log.Info("using the offline Azure emulator", "latency", c.EmulatorLatency, "regions", emu.Regions())
		prices.Client, prices.Source = &http.Client{Transport: emu.PricesTransport()}, instancehub.SourceEmulator
		return cloud, azure.NewRetailPrices(prices), func() {
			if err := emu.Close(); err != nil {
				log.Error("close the emulator", "err", err)
			}
		}, nil
	}
	cred, err := azidentity.NewDefaultAzureCredential(nil)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("azure credential: %w", err)
	}
	cfg, err := c.azureConfig(c.Azure.SubscriptionID, c.Azure.ResourceGroup, c.regions())
	if err != nil {
		return nil, nil, nil, err
	}
	cfg.Metrics = m
	cloud, err := azure.New(cfg, cred, nil)
	if err != nil {
		return nil, nil, nil, err
	}
	log.Info("using Azure", "subscription", c.Azure.SubscriptionID, "resource_group", c.Azure.ResourceGroup)
	return cloud, azure.NewRetailPrices(prices), func() {}, nil
}

// openIdentity returns the single sign-on provider, or nil when none is
// configured. Local accounts only are fine; no way to sign in at all is not.
// A provider that cannot be reached yet does not stop the portal: single
// sign-on is unavailable, and says why, until the provider answers.
func openIdentity(ctx context.Context, c Config, log *slog.Logger) (instancehub.IdentityProvider, error) {
	if c.OIDC.Issuer == "" {
		if !c.LocalAccounts {
			return nil, fmt.Errorf("--local-accounts=false needs single sign-on: set --oidc-issuer")
		}
		return nil, nil
	}
	p, err := oidc.Start(ctx, oidc.Config{
		IssuerURL: c.OIDC.Issuer, ClientID: c.OIDC.ClientID, ClientSecret: c.OIDC.ClientSecret,
		RedirectURL: c.OIDC.RedirectURL, GroupsClaim: c.OIDC.GroupsClaim, DisplayName: c.OIDC.Name,
		Logger: log, Retry: c.ssoRetry,
	})
	if err != nil {
		return nil, fmt.Errorf("single sign-on: %w", err)
	}
	return p, nil
}

// firstUser creates the first Owner on a fresh database. A generated
// password is logged this once and never again.
func firstUser(ctx context.Context, service *instancehub.Service, email string, log *slog.Logger) error {
	user, generated, err := service.EnsureFirstUser(ctx, email, os.Getenv("INSTANCEHUB_ADMIN_PASSWORD"))
	if err != nil {
		return fmt.Errorf("create the first account: %w", err)
	}
	switch {
	case user == nil:
	case generated != "":
		log.Warn("created the first account; its password is shown only now", "email", user.Email, "password", generated)
	default:
		log.Info("created the first account", "email", user.Email)
	}
	return nil
}

// checkRecords refuses to start a fresh database over a cloud that has the
// portal's VMs, and says what to do.
func checkRecords(ctx context.Context, service *instancehub.Service) error {
	err := service.CheckRecordsMatchCloud(ctx)
	if instancehub.ErrorCode(err) == instancehub.ECONFLICT {
		return fmt.Errorf("%s Start with --adopt to rebuild their instances from the VMs and their tags, "+
			"or give --data the directory that holds this portal's database", instancehub.ErrorMessage(err))
	} else if err != nil {
		return fmt.Errorf("check the cloud for this portal's virtual machines: %w", err)
	}
	return nil
}

// adopt rebuilds the instances whose records are missing, and logs each.
func adopt(ctx context.Context, service *instancehub.Service, log *slog.Logger) error {
	adopted, err := service.AdoptVMs(ctx)
	for _, inst := range adopted {
		log.Warn("adopted an instance from its virtual machine", "instance", inst.Name, "owner", inst.OwnerEmail, "state", inst.State)
	}
	if err != nil {
		return fmt.Errorf("--adopt: %w", err)
	}
	log.Info("adoption done", "instances", len(adopted))
	return nil
}

// defaultPollInterval is how often operations are polled: every 5 s on
// Azure, whose read budget is better spent slowly; with the emulator, every
// second at its realistic times (latency 1), scaled down with them, so that
// an instant emulator (latency 0, for benchmarks and demos) does not keep
// each operation waiting whole seconds between its steps and thousands of
// them in flight.
func defaultPollInterval(c Config) time.Duration {
	if c.Azure.SubscriptionID != "" {
		return 5 * time.Second
	}
	return max(20*time.Millisecond, time.Duration(c.EmulatorLatency*float64(time.Second)))
}
