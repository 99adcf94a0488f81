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
	"github.com/instancehub/instancehub/apps"
	"github.com/instancehub/instancehub/azure"
	"github.com/instancehub/instancehub/azure/emulator"
	"github.com/instancehub/instancehub/engine"
	"github.com/instancehub/instancehub/events"
	"github.com/instancehub/instancehub/localapps"
	"github.com/instancehub/instancehub/metrics"
	"github.com/instancehub/instancehub/oidc"
	"github.com/instancehub/instancehub/scheduler"
	"github.com/instancehub/instancehub/service"
	"github.com/instancehub/instancehub/static"
	"github.com/instancehub/instancehub/store"
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
// until ctx ends or the server fails, then shuts it down (Main.Close).
func serve(ctx context.Context, c Config, ln net.Listener, log *slog.Logger) error {
	m := &Main{Config: c, Listener: ln, Logger: log}
	if err := m.Run(ctx); err != nil {
		return err
	}
	select {
	case err := <-m.Failed():
		m.Close()
		return err
	case <-ctx.Done():
	}
	return m.Close()
}

// Main is the portal as serve runs it, as WTF Dial's cmd/wtfd has one: Run
// opens its parts in order and returns once it serves; Close shuts them in
// the reverse order, requests first, then the schedules and the operations
// (which resume on the next start), the cloud and the store.
type Main struct {
	Config Config
	// Listener is where the portal serves: serveCommand listens on
	// Config.Addr once it holds the data directory's lock.
	Listener net.Listener
	Logger   *slog.Logger

	// URL is where the portal serves, once Run returned.
	URL string

	db       *store.DB
	figures  *metrics.Metrics // the portal's figures, on the operator endpoints
	release  *idleRelease     // gives back the free heap when the portal is quiet
	cloud    *azure.Cloud
	prices   *azure.RetailPrices
	identity instancehub.IdentityProvider // single sign-on's; nil without
	proxies  []*net.IPNet                 // the proxies trusted to name clients
	engine   *engine.Engine
	hub      *events.Hub // tells open pages of the instances' changes
	service  *service.Service
	servers  *localapps.Servers // the offline emulator's Jupyter servers; nil on Azure
	gateway  *apps.Gateway
	server   *web.Server
	failed   chan error // the server's end, when it ends by itself
	cancel   context.CancelFunc
	closers  []func() // what Run opened, closed in reverse
}

// Run opens the store, the cloud, the engine, the service, the
// applications' gateway, the scheduler and the web server, and returns once
// the portal serves on Listener. What runs in the background stops at
// Close, or when ctx ends. On error, Run closes what it opened.
func (m *Main) Run(ctx context.Context) (err error) {
	ctx, m.cancel = context.WithCancel(ctx)
	defer func() {
		if err != nil {
			m.Close()
		}
	}()
	c, log := m.Config, m.Logger
	if c.Lease < time.Second || c.Lease > 10*time.Minute {
		return usageError{fmt.Errorf("--lease %s: give 1s to 10m", c.Lease)}
	}
	if _, err := c.publicURL(nil); err != nil {
		return usageError{err}
	}
	if err := c.checkBackupFlags(); err != nil {
		return usageError{err}
	}
	if err := m.openBackend(ctx); err != nil {
		return err
	}
	if err := m.startOperations(ctx); err != nil {
		return err
	}
	stopDebug, err := serveDebug(ctx, c.DebugAddr, m.figures.Handler(), log)
	if err != nil {
		return err
	}
	m.closing(stopDebug)
	for _, f := range []string{"vendor/htmx.min.js", "vendor/htmx-ext-sse.min.js"} {
		if _, err := fs.Stat(static.FS, f); err != nil {
			log.Warn(f + " is missing from static; build with `make` so pages update in place")
		}
	}
	ln, public, err := m.listen()
	if err != nil {
		return err
	}
	if err := m.openApplications(ctx, public); err != nil {
		return err
	}
	// The schedules and idle shutdown run beside the engine, once the
	// probe that tells an idle instance from one in use is set.
	sched := &scheduler.Scheduler{Store: m.db, Operations: m.engine, Service: m.service, Logger: log, AfterTick: m.release.kick}
	sched.Start(ctx)
	m.closing(sched.Stop)
	if err := m.startWeb(ctx, ln, public); err != nil {
		return err
	}
	// Starting leaves garbage the heap would keep until its next
	// collection, which an idle portal may never reach: the first Owner's
	// password hash alone takes 19 MiB (argon2id). Give it back now.
	debug.FreeOSMemory()
	// The server as it is now: Close forgets it before the release stops.
	m.release.requests = m.server.Requests
	go m.release.run(ctx)
	if os.Getenv("GOGC") == "" {
		go newHeapFloor(64<<20, m.server.Requests).run(ctx, time.Second)
	}
	return nil
}

// Failed delivers the web server's error if it ends by itself.
func (m *Main) Failed() <-chan error { return m.failed }

// Close shuts the portal down: it stops taking requests, letting those
// under way finish for up to 10 s, then closes what Run opened, in the
// reverse order. It returns the shutdown's error.
func (m *Main) Close() error {
	var err error
	if m.hub != nil {
		// The pages' streams end first, or the shutdown would wait on them.
		m.hub.Close()
	}
	if m.server != nil {
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		m.Logger.Info("shutting down")
		err = m.server.Shutdown(shutdown)
		m.server = nil
	}
	if m.cancel != nil {
		m.cancel()
	}
	for i := len(m.closers) - 1; i >= 0; i-- {
		m.closers[i]()
	}
	m.closers = nil
	return err
}

// closing has Close call f, after what was opened later.
func (m *Main) closing(f func()) { m.closers = append(m.closers, f) }

// openBackend opens the store and the cloud, reads the configuration of
// sign-in, and builds the engine and the service over them. A fresh database over a cloud that has the portal's
// VMs is refused unless --adopt; the first Owner is made on a fresh one.
func (m *Main) openBackend(ctx context.Context) error {
	c, log := m.Config, m.Logger
	db, err := openStore(ctx, c, log)
	if err != nil {
		return err
	}
	m.db = db
	m.closing(func() { db.Close() })
	// The portal's figures, served on the operator endpoints (--debug-addr).
	replica := engine.NewReplicaName()
	m.figures = metrics.New(metrics.Options{Replica: replica})
	db.Metrics = m.figures
	m.figures.WatchDatabase(db.Stats)

	if c.PollInterval == 0 {
		c.PollInterval = defaultPollInterval(c)
	}
	cloud, prices, closeCloud, err := openCloud(c, m.figures, log)
	if err != nil {
		return err
	}
	m.cloud, m.prices = cloud, prices
	m.closing(closeCloud)
	// The instances' changes reach the pages open as they commit: on
	// SQLite, the engine's writes; on PostgreSQL, every replica's, as the
	// database notifies them.
	m.hub = &events.Hub{Open: m.figures.StreamsOpen}
	var instances instancehub.InstanceStore = events.Store{InstanceStore: db, Hub: m.hub}
	if db.Shared() {
		instances = db
		listening, stopListening := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = events.Follow(listening, m.hub, db, func(lost error) {
				if lost != nil {
					log.Warn("the instances' changes were not heard for a while; the pages open fetch again what they show", "err", lost)
				}
			})
		}()
		m.closing(func() { stopListening(); <-done })
	}
	m.engine = &engine.Engine{
		Instances: instances, Cloud: cloud, Logger: log,
		PollInterval: c.PollInterval, SyncInterval: c.SyncInterval,
		// On SQLite this portal, which holds the data directory's lock, is
		// the only one: it takes over what a crash left at once.
		Exclusive: c.Database == "", LeaseFor: c.Lease, Replica: replica, Metrics: m.figures,
	}
	m.release = newIdleRelease(20*time.Second, 256<<20)
	m.engine.AfterSync = m.release.kick
	if c.Azure.SubscriptionID == "" {
		// Offline, the instances' sandboxes run their applications and,
		// from the engine's first resumed operation on, their setup scripts.
		servers, err := openLocalApps(ctx, c, db, m.figures, log)
		if err != nil {
			return err
		}
		m.servers = servers
		m.closing(func() { servers.Close() })
		m.engine.Setup = servers
	} else {
		// On Azure, through the Custom Script extension of each VM.
		m.engine.Setup = cloud
	}
	roleMap, err := c.roleMap()
	if err != nil {
		return err
	}
	if m.proxies, err = c.trustedProxies(); err != nil {
		return err
	}
	if m.identity, err = openIdentity(ctx, c, log); err != nil {
		return err
	}
	if len(roleMap) > 0 {
		log.Info("single sign-on groups give roles", "role_map", instancehub.FormatRoleMap(roleMap))
	}
	m.service = service.New(service.Config{
		Store: db, Cloud: cloud, Operations: m.engine, Changes: m.hub, Logger: log, RoleMap: roleMap, Prices: prices,
		UserAssignedIdentities: c.identities(), ArchiveDir: filepath.Join(c.Data, "audit-archives"), Metrics: m.figures,
		SetupScripts: m.engine.Setup != nil, SetupScriptFiles: m.servers != nil,
	})
	m.figures.WatchQuota(m.service.QuotaUse)
	// Each sync adopts the VMs of the portal that no record names: after a
	// restore, those made since the backup.
	m.engine.Adopter = m.service
	if !c.Adopt {
		if err := checkRecords(ctx, m.service); err != nil {
			return err
		}
	}
	if err := firstUser(ctx, m.service, c.AdminEmail, log); err != nil {
		return err
	}
	if c.Adopt {
		return adopt(ctx, m.service, log)
	}
	return nil
}

// startOperations starts the engine, which resumes the operations left in
// flight, reads the prices, so that the first create form need not wait,
// and starts the scheduled backups (--backup-every).
func (m *Main) startOperations(ctx context.Context) error {
	if err := m.engine.Start(ctx); err != nil {
		return err
	}
	m.closing(m.engine.Stop)
	for _, region := range m.cloud.Config().Regions {
		go m.prices.Prices(ctx, region)
	}
	if m.Config.BackupEvery > 0 {
		go scheduledBackups(ctx, m.Config, m.Logger)
	}
	return nil
}

// listen returns the listener the portal serves on, over TLS when a
// certificate is given, and the address people open it at.
func (m *Main) listen() (net.Listener, *url.URL, error) {
	c, ln := m.Config, m.Listener
	scheme := "http"
	if c.TLSCert != "" || c.TLSKey != "" {
		cert, err := loadCertificate(c.TLSCert, c.TLSKey)
		if err != nil {
			return nil, nil, err
		}
		ln, scheme = cert.listen(ln), "https"
	}
	m.URL = scheme + "://" + ln.Addr().String()
	public, err := c.publicURL(&url.URL{Scheme: scheme, Host: ln.Addr().String()})
	if err != nil {
		return nil, nil, usageError{err}
	}
	return ln, public, nil
}

// openApplications opens the applications' gateway: the applications run
// on the instances; offline, on Jupyter servers of this machine, one per
// instance opened. The gateway is the service's probe of their use.
func (m *Main) openApplications(ctx context.Context, public *url.URL) error {
	c, log := m.Config, m.Logger
	appsKey, err := m.db.PortalKey(ctx, "applications")
	if err != nil {
		return err
	}
	var upstreams instancehub.ApplicationUpstreams = m.cloud
	var running func(string) bool
	var dial func(context.Context, string, string) (net.Conn, error)
	if servers := m.servers; servers != nil {
		m.figures.WatchSandboxes(func() int { return len(servers.Running()) })
		upstreams, m.service.Applications = servers, servers
		running, dial = servers.Serving, servers.DialContext
	}
	gw, err := openApplications(c, appsKey, m.db, m.service, upstreams, running, dial, public, m.refuseApplication, m.figures, log)
	if err != nil {
		return err
	}
	m.gateway = gw
	m.closing(gw.Close)
	m.service.Probe = gw
	return nil
}

// refuseApplication writes the gateway's refusals in the portal's look, by
// the web server, which serves once the gateway is made.
func (m *Main) refuseApplication(w http.ResponseWriter, r *http.Request, status int, message string) {
	m.server.RefuseApplication(w, r, status, message)
}

// startWeb starts the web server on ln: the portal's pages and API, and the
// applications' hosts through the gateway.
func (m *Main) startWeb(ctx context.Context, ln net.Listener, public *url.URL) error {
	c, log := m.Config, m.Logger
	sealKey, err := m.db.PortalKey(ctx, "sealed-cookies")
	if err != nil {
		return err
	}
	var gateway web.Applications = m.gateway
	if m.servers != nil {
		gateway = offlineGateway{Gateway: m.gateway, servers: m.servers}
		go followPowerState(ctx, m.db, m.servers, 15*time.Second, log)
	}
	server := web.New(web.Config{
		SealKey: sealKey,
		// People open it over TLS when its address says so, whatever
		// terminates it: its cookies are then Secure and __Host-, as the
		// applications' are (their scheme is the same address's).
		Workspace: c.Workspace, SecureCookies: c.SecureCookies || public.Scheme == "https", Static: static.FS, Logger: log,
		LocalAccounts: c.LocalAccounts, Identity: m.identity, TrustedProxies: m.proxies, Applications: gateway,
		Hosts: c.portalHosts(public), Metrics: m.figures,
	}, m.service)
	m.server, m.failed = server, make(chan error, 1)
	go func() { m.failed <- server.Serve(ln) }()
	log.Info("serving the portal", "url", m.URL, "data", c.Data, "replica", m.engine.Replica)
	return nil
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
func firstUser(ctx context.Context, svc *service.Service, email string, log *slog.Logger) error {
	user, generated, err := svc.EnsureFirstUser(ctx, email, os.Getenv("INSTANCEHUB_ADMIN_PASSWORD"))
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
func checkRecords(ctx context.Context, svc *service.Service) error {
	err := svc.CheckRecordsMatchCloud(ctx)
	if instancehub.ErrorCode(err) == instancehub.ECONFLICT {
		return fmt.Errorf("%s Start with --adopt to rebuild their instances from the VMs and their tags, "+
			"or give --data the directory that holds this portal's database", instancehub.ErrorMessage(err))
	} else if err != nil {
		return fmt.Errorf("check the cloud for this portal's virtual machines: %w", err)
	}
	return nil
}

// adopt rebuilds the instances whose records are missing, and logs each.
func adopt(ctx context.Context, svc *service.Service, log *slog.Logger) error {
	adopted, err := svc.AdoptVMs(ctx)
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
// them in flight. Its steps end by their first poll, so the floor costs no
// more polls: it is the wait before each (a create's five steps took 100 ms
// of waits at 20 ms, most of a click's way to Running).
func defaultPollInterval(c Config) time.Duration {
	if c.Azure.SubscriptionID != "" {
		return 5 * time.Second
	}
	return max(2*time.Millisecond, time.Duration(c.EmulatorLatency*float64(time.Second)))
}
