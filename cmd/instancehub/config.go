package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/azure"
	"github.com/instancehub/instancehub/engine"
	"github.com/instancehub/instancehub/localapps"
	"github.com/instancehub/instancehub/oidc"
	"github.com/instancehub/instancehub/store"
	"github.com/jackc/pgx/v5/pgconn"
)

// Config is everything the portal can be told, by flag or by the
// INSTANCEHUB_* environment variable of the same name.
type Config struct {
	Addr string
	Data string
	// Database is PostgreSQL's URL (postgres://…) for several portals on
	// one database; empty, the SQLite file in Data.
	Database        string
	Workspace       string
	LogLevel        string
	LogFormat       string
	SecureCookies   bool
	TLSCert         string
	TLSKey          string
	EmulatorLatency float64
	EmulatorQuota   string
	// EmulatorURL and EmulatorCA reach an emulator served by its own
	// process (instancehub emulator) instead of one in this process.
	EmulatorURL  string
	EmulatorCA   string
	PollInterval time.Duration
	SyncInterval time.Duration
	// Lease is how long a replica's lease of an operation lasts unless
	// renewed (engine.Engine.LeaseFor).
	Lease          time.Duration
	AdminEmail     string
	LocalAccounts  bool
	TrustedProxies string
	DebugAddr      string
	AppsDomain     string
	PublicURL      string
	Jupyter        string
	JupyterMax     int
	// Bwrap, SandboxUIDs, SandboxMemory and SandboxProcesses make the
	// offline Jupyter's sandboxes; UnsafeLocalApps runs it without one.
	Bwrap            string
	SandboxUIDs      string
	SandboxMemory    string
	SandboxProcesses int
	UnsafeLocalApps  bool
	Adopt            bool
	PricesURL        string
	// BackupEvery and BackupKeep schedule backups of the data directory
	// into BackupDir (its backups folder when empty), where the backups
	// taken before an upgrade go too.
	BackupEvery time.Duration
	BackupKeep  int
	BackupDir   string

	Azure AzureConfig
	OIDC  OIDCConfig

	// ssoRetry is how single sign-on's discovery is tried again while it
	// fails: no flag, its default (1 s doubling to a minute); tests set it.
	ssoRetry oidc.Retry
	// backupEveryLeast is the shortest --backup-every: a minute unless a
	// test sets it.
	backupEveryLeast time.Duration
}

// OIDCConfig switches on single sign-on with an OpenID Connect provider.
type OIDCConfig struct {
	Issuer       string
	ClientID     string
	ClientSecret string
	RedirectURL  string
	GroupsClaim  string
	RoleMap      string // "group=Role,group=Role"
	Name         string
}

// AzureConfig switches from the emulator to a real subscription, and says
// how workstations are made (in either mode).
type AzureConfig struct {
	SubscriptionID string
	ResourceGroup  string
	Region         string
	// Identities are the user-assigned identities instances may be given.
	Identities       string
	Regions          string
	PortalID         string
	VirtualNetwork   string
	Subnet           string
	OutboundPool     string
	TrustedLaunch    bool
	SecureBoot       bool
	EncryptionAtHost bool
	Image            string
	OSDiskSizeGB     int
	OSDiskType       string
	PublicIP         bool
	SSHSource        string
	PortalSource     string
	DockerPool       string
	// RStudioImage and RegistryIdentity say where RStudio's image comes from.
	RStudioImage     string
	RegistryIdentity string
}

// envName is the environment variable of a flag: --emulator-latency is
// INSTANCEHUB_EMULATOR_LATENCY.
func envName(flagName string) string {
	return "INSTANCEHUB_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// flags binds c to fs, each flag defaulting to its environment variable.
type flags struct {
	fs  *flag.FlagSet
	err error
}

// string binds a plain setting. A secret (a token, a password, a URL that
// may hold one) is bound with secret instead, or help would print it.
func (f *flags) string(p *string, name, def, usage string) {
	if v, ok := os.LookupEnv(envName(name)); ok {
		def = v
	}
	f.fs.StringVar(p, name, def, fmt.Sprintf("%s (env %s)", usage, envName(name)))
}

// choice binds a setting that takes one of choices: another is refused,
// from the command line or the environment.
func (f *flags) choice(p *string, name, def string, choices []string, usage string) {
	if v, ok := os.LookupEnv(envName(name)); ok {
		if !slices.Contains(choices, v) {
			f.note(name, fmt.Errorf("%q: %s", v, strings.Join(choices, " or ")))
		}
		def = v
	}
	*p = def
	f.fs.Var(choiceValue{p, choices}, name, fmt.Sprintf("%s (env %s)", usage, envName(name)))
}

type choiceValue struct {
	p       *string
	choices []string
}

func (v choiceValue) String() string {
	if v.p == nil {
		return ""
	}
	return *v.p
}

func (v choiceValue) Set(s string) error {
	if !slices.Contains(v.choices, s) {
		return fmt.Errorf("%q: %s", s, strings.Join(v.choices, " or "))
	}
	*v.p = s
	return nil
}

// secret binds a setting that must never be printed: its default comes
// from the environment as any other's, but help names the variable, and
// says whether it is set, instead of showing its value.
func (f *flags) secret(p *string, name, usage string) {
	env, state := envName(name), "not set"
	if v, ok := os.LookupEnv(env); ok {
		*p, state = v, "set"
	}
	f.fs.Var(secretValue{p}, name, fmt.Sprintf("%s (`secret`; default: $%s, %s)", usage, env, state))
}

// secretValue is a secret flag's value: it shows as empty, so that neither
// help nor anything else that prints flags shows it.
type secretValue struct{ p *string }

func (v secretValue) String() string { return "" }

func (v secretValue) Set(s string) error {
	*v.p = s
	return nil
}

func (f *flags) bool(p *bool, name string, def bool, usage string) {
	if v, ok := os.LookupEnv(envName(name)); ok {
		b, err := strconv.ParseBool(v)
		f.note(name, err)
		def = b
	}
	f.fs.BoolVar(p, name, def, fmt.Sprintf("%s (env %s)", usage, envName(name)))
}

func (f *flags) int(p *int, name string, def int, usage string) {
	if v, ok := os.LookupEnv(envName(name)); ok {
		n, err := strconv.Atoi(v)
		f.note(name, err)
		def = n
	}
	f.fs.IntVar(p, name, def, fmt.Sprintf("%s (env %s)", usage, envName(name)))
}

func (f *flags) float(p *float64, name string, def float64, usage string) {
	if v, ok := os.LookupEnv(envName(name)); ok {
		x, err := strconv.ParseFloat(v, 64)
		f.note(name, err)
		def = x
	}
	f.fs.Float64Var(p, name, def, fmt.Sprintf("%s (env %s)", usage, envName(name)))
}

func (f *flags) duration(p *time.Duration, name string, def time.Duration, usage string) {
	if v, ok := os.LookupEnv(envName(name)); ok {
		d, err := time.ParseDuration(v)
		f.note(name, err)
		def = d
	}
	f.fs.DurationVar(p, name, def, fmt.Sprintf("%s (env %s)", usage, envName(name)))
}

func (f *flags) note(name string, err error) {
	if err != nil && f.err == nil {
		f.err = fmt.Errorf("environment variable %s: %w", envName(name), err)
	}
}

// bindCommon binds what every command needs: where the data is.
func (c *Config) bindCommon(f *flags) {
	f.string(&c.Data, "data", "./data", "directory of the SQLite database and the emulator's cloud")
	f.string(&c.LogLevel, "log-level", "info", "log level: debug, info, warn or error")
	f.choice(&c.LogFormat, "log-format", "text", []string{"text", "json"}, "log format: text (key=value) or json (one object a line, for log shippers)")
}

// bindDatabase binds what the commands that read the portal's records need.
func (c *Config) bindDatabase(f *flags) {
	c.bindCommon(f)
	f.secret(&c.Database, "database",
		"PostgreSQL URL (postgres://user:password@host/db) for several portals on one database; empty: the SQLite file in --data")
	f.string(&c.BackupDir, "backup-dir", "", "directory of the backups taken before an upgrade and on schedule (default: backups in --data)")
}

// bindServe binds the flags of `instancehub serve`.
func (c *Config) bindServe(f *flags) {
	c.bindDatabase(f)
	f.string(&c.Addr, "addr", "127.0.0.1:8080", "address to serve the portal on")
	f.string(&c.Workspace, "workspace", "Data science workspace", "workspace name shown in the top bar")
	f.bool(&c.SecureCookies, "secure-cookies", false, "mark cookies Secure; set when a proxy in front terminates TLS")
	f.string(&c.TLSCert, "tls-cert", "", "PEM certificate (chain) to serve HTTPS with, read again when it changes; with --tls-key")
	f.string(&c.TLSKey, "tls-key", "", "PEM private key of --tls-cert")
	f.float(&c.EmulatorLatency, "emulator-latency", 1, "scale of the offline emulator's operation times (1 = realistic, 0 = instant)")
	f.string(&c.EmulatorQuota, "emulator-quota", "",
		`the emulator's subscription vCPU limits, e.g. "eastus/standardNCSv3Family=0,westeurope/cores=40" (cores: the regional total)`)
	f.string(&c.EmulatorURL, "emulator-url", "", "address of an emulator served by its own process (instancehub emulator), which portals then share; empty runs one in this process")
	f.string(&c.EmulatorCA, "emulator-ca", "", "that emulator's certificate (emulator-cert.pem in its data directory), to trust")
	f.duration(&c.PollInterval, "poll-interval", 0, "how often an operation in progress is polled (0: 5s on Azure; with the emulator 1s, scaled with --emulator-latency, at least 2ms)")
	f.duration(&c.SyncInterval, "sync-interval", 30*time.Second, "how often the portal reconciles with Azure")
	f.duration(&c.Lease, "lease", engine.DefaultLeaseFor, "with --database, how long a replica's lease of an operation lasts unless renewed (every third of it): the longest another replica waits to take over the operations of one that died (1s to 10m)")
	f.string(&c.AdminEmail, "admin-email", "admin@instancehub.local",
		"email of the Owner created on first start; its password comes from INSTANCEHUB_ADMIN_PASSWORD or is generated and logged once")
	f.bool(&c.LocalAccounts, "local-accounts", true, "allow signing in with a local account's password")
	f.bool(&c.Adopt, "adopt", false, "at start, rebuild an instance for every VM tagged as this portal's that none records, as after a lost database")
	f.duration(&c.BackupEvery, "backup-every", 0, "back up the data directory this often (at least 1m), while serving; 0: never (SQLite only)")
	f.int(&c.BackupKeep, "backup-keep", 7, "how many scheduled backups to keep; the oldest go")
	f.string(&c.Jupyter, "jupyter", "jupyter", "the jupyter command that runs the offline emulator's applications (a path, or a name in PATH)")
	f.int(&c.JupyterMax, "jupyter-max", 8, "how many offline Jupyter servers may run at once; opening one more stops the least recently used")
	f.string(&c.Bwrap, "bwrap", "bwrap", "bubblewrap's command, which runs each offline Jupyter in a sandbox of its own (a path, or a name in PATH)")
	f.string(&c.SandboxUIDs, "sandbox-uids", localapps.DefaultUIDs.String(), "when the portal runs as root, the user ids FIRST-LAST the offline sandboxes run as: an owner's instances run as FIRST + the owner's user id")
	f.string(&c.SandboxMemory, "sandbox-memory", "4GiB", "the most memory each process of an offline sandbox may use (its instance's size's memory when lower), e.g. 4GiB or 512MiB")
	f.int(&c.SandboxProcesses, "sandbox-processes", 512, "the most processes and threads an offline sandbox may run")
	f.bool(&c.UnsafeLocalApps, "unsafe-local-apps", false, "run the offline Jupyter without a sandbox, as the portal's own user, with its access to the portal's database, configuration and every user's files: only for a laptop where bubblewrap cannot run")
	f.string(&c.PublicURL, "public-url", "", "the address people open the portal at, when a proxy or load balancer is in front of it (https://portal.example.com): where an application's origin sends a visitor not signed in; default: the address it serves on")
	f.string(&c.AppsDomain, "apps-domain", "", `domain of the applications' origins, <instance>--<app>.<domain>, with a port if not the default; needs a wildcard DNS record and, with TLS, a wildcard certificate (default: apps.localhost on the portal's port, which browsers resolve to this machine)`)
	f.string(&c.PricesURL, "prices-url", azure.RetailPricesURL, "the Azure Retail Prices API, read once a day per region for the prices of sizes and the cost estimates (the emulator serves its own)")
	f.string(&c.DebugAddr, "debug-addr", "", "address of the operator endpoints: the portal's Prometheus metrics at /metrics, Go runtime metrics and pprof under /debug/; empty (the default) serves none; keep it private")
	f.string(&c.TrustedProxies, "trusted-proxies", "", "comma-separated networks (CIDR) of reverse proxies whose X-Forwarded-For is believed")
	f.string(&c.OIDC.Issuer, "oidc-issuer", "", "OpenID Connect issuer URL, e.g. https://login.microsoftonline.com/<tenant>/v2.0; empty turns single sign-on off")
	f.string(&c.OIDC.ClientID, "oidc-client-id", "", "client (application) ID registered with the identity provider")
	f.secret(&c.OIDC.ClientSecret, "oidc-client-secret", "client secret (prefer the environment variable)")
	f.string(&c.OIDC.RedirectURL, "oidc-redirect-url", "", "the portal's callback as registered, e.g. https://portal.example.com/auth/oidc/callback")
	f.string(&c.OIDC.GroupsClaim, "oidc-groups-claim", "", "ID token claim whose values map to roles, e.g. groups or roles")
	f.string(&c.OIDC.RoleMap, "oidc-role-map", "", `group-to-role mapping, e.g. "ih-admins=Owner,ih-users=Data Scientist"`)
	f.string(&c.OIDC.Name, "oidc-name", "", "name on the sign-in button (default: Microsoft Entra ID for Entra issuers, else single sign-on)")
	f.string(&c.Azure.SubscriptionID, "azure-subscription-id", "", "Azure subscription to create instances in; empty runs the offline emulator")
	f.string(&c.Azure.ResourceGroup, "azure-resource-group", "instancehub", "resource group of the portal's resources")
	f.string(&c.Azure.Region, "azure-region", "eastus", "default region of new instances")
	f.string(&c.Azure.Regions, "azure-regions", "", "comma-separated regions instances may use (default: the default region alone)")
	f.string(&c.Azure.Identities, "azure-identities", "", "comma-separated resource IDs of the user-assigned managed identities instances may be given (default: none; the system-assigned one is always offered)")
	f.string(&c.Azure.PortalID, "azure-portal-id", "instancehub", "tag value that marks the resources this portal makes")
	f.string(&c.Azure.VirtualNetwork, "azure-vnet", "", `existing virtual network of the resource group instances join by default ("{region}" for the region); empty: the portal makes instancehub-{region}`)
	f.string(&c.Azure.Subnet, "azure-subnet", "", "its subnet")
	f.string(&c.Azure.OutboundPool, "azure-outbound-pool", "", `resource ID of a Standard load balancer's backend pool every instance's network interface joins, for its outbound rules ("{region}" for the region); empty: none`)
	f.bool(&c.Azure.TrustedLaunch, "azure-trusted-launch", false, "make every instance a Trusted Launch VM (virtual TPM and Secure Boot); only sizes that support it are offered")
	f.bool(&c.Azure.SecureBoot, "azure-secure-boot", true, "with --azure-trusted-launch, boot only signed boot loaders, kernels and kernel modules; false for drivers that are not signed")
	f.bool(&c.Azure.EncryptionAtHost, "azure-encryption-at-host", false, "encrypt every instance's disks and caches on its host; only sizes that support it are offered, and the subscription needs the feature Microsoft.Compute/EncryptionAtHost")
	f.string(&c.Azure.Image, "azure-image", azure.DataScienceVM.URN(), "image URN publisher:offer:sku:version; \"latest\" is resolved and pinned at each create")
	f.int(&c.Azure.OSDiskSizeGB, "azure-os-disk-size", 128, "OS disk size in GiB")
	f.string(&c.Azure.OSDiskType, "azure-os-disk-type", "Premium_LRS", "OS disk type: Premium_LRS, StandardSSD_LRS or Standard_LRS")
	f.bool(&c.Azure.PublicIP, "azure-public-ip", true, "give instances with SSH on a Standard static public IP")
	// Network exposure: nothing is open until an operator names a source.
	f.string(&c.Azure.SSHSource, "azure-ssh-source", "", "address range allowed to reach SSH: CIDR or service tag (e.g. the Bastion subnet); empty: no SSH from anywhere, and no public IP")
	f.string(&c.Azure.PortalSource, "azure-portal-source", "", "the portal's address range (CIDR), the only source the applications on instances admit")
	f.string(&c.Azure.RStudioImage, "azure-rstudio-image", azure.DefaultRStudioImage, "container image RStudio runs from on instances: pinned by digest (name@sha256:…), or by a tag whose digest the portal reads from the registry anonymously")
	f.string(&c.Azure.RegistryIdentity, "azure-registry-identity", "", "resource ID of a user-assigned managed identity every instance gets and signs in to RStudio's image registry with (an Azure Container Registry where it holds AcrPull); empty: anonymous pulls")
	f.string(&c.Azure.DockerPool, "azure-docker-pool", azure.DefaultDockerAddressPool, "IPv4 range Docker takes its bridge and networks from on instances; nothing they reach may be in it")
}

// regions are the allowed regions, the default first.
func (c *Config) regions() []string {
	out := []string{c.Azure.Region}
	for _, r := range strings.Split(c.Azure.Regions, ",") {
		if r = strings.TrimSpace(r); r != "" && !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}

// azureConfig is how workstations are made, in either mode.
func (c *Config) azureConfig(subscription, resourceGroup string, regions []string) (azure.Config, error) {
	img, err := azure.ParseImage(c.Azure.Image)
	if err != nil {
		return azure.Config{}, fmt.Errorf("--azure-image: %w", err)
	}
	if _, err := azure.ParseDockerAddressPool(c.Azure.DockerPool); err != nil {
		return azure.Config{}, fmt.Errorf("--azure-docker-pool: %w", err)
	}
	if err := azure.CheckImageReference(c.Azure.RStudioImage); err != nil {
		return azure.Config{}, fmt.Errorf("--azure-rstudio-image: %w", err)
	}
	if id := c.Azure.RegistryIdentity; id != "" {
		if err := instancehub.ValidateIdentity(instancehub.ManagedIdentity{UserAssigned: []string{id}}); err != nil {
			return azure.Config{}, fmt.Errorf("--azure-registry-identity: %s", instancehub.ErrorMessage(err))
		}
	}
	sshSource, portalSource := c.Azure.SSHSource, c.Azure.PortalSource
	if c.Azure.SubscriptionID == "" && sshSource == "" && portalSource == "" {
		// The emulated subscription has nothing to expose: it shows the
		// SSH path and addresses a configured subscription would give.
		sshSource, portalSource = "Internet", "10.0.0.0/8"
	}
	return azure.Config{
		SubscriptionID: subscription, ResourceGroup: resourceGroup, Regions: regions,
		PortalID: c.Azure.PortalID, PublicIP: c.Azure.PublicIP, SSHSourceRange: sshSource, AppSourceRange: portalSource,
		VirtualNetwork: c.Azure.VirtualNetwork, Subnet: c.Azure.Subnet, OutboundPool: c.Azure.OutboundPool, Identities: c.identities(), Image: img,
		TrustedLaunch: c.Azure.TrustedLaunch, SecureBootOff: !c.Azure.SecureBoot, EncryptionAtHost: c.Azure.EncryptionAtHost,
		OSDiskSizeGB: int32(c.Azure.OSDiskSizeGB), OSDiskType: c.Azure.OSDiskType,
		DockerAddressPool: c.Azure.DockerPool, RStudioImage: c.Azure.RStudioImage, RegistryIdentity: c.Azure.RegistryIdentity,
	}, nil
}

// roleMap parses --oidc-role-map.
func (c *Config) roleMap() (map[string]instancehub.Role, error) {
	m, err := instancehub.ParseRoleMap(c.OIDC.RoleMap)
	if err != nil {
		return nil, fmt.Errorf("--oidc-role-map: %s", instancehub.ErrorMessage(err))
	}
	return m, nil
}

// trustedProxies parses the proxies' networks; a bare address is a /32 or /128.
func (c *Config) trustedProxies() ([]*net.IPNet, error) {
	var nets []*net.IPNet
	for _, s := range strings.Split(c.TrustedProxies, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		if !strings.Contains(s, "/") {
			if ip := net.ParseIP(s); ip != nil && ip.To4() != nil {
				s += "/32"
			} else {
				s += "/128"
			}
		}
		_, n, err := net.ParseCIDR(s)
		if err != nil {
			return nil, fmt.Errorf("--trusted-proxies: %w", err)
		}
		nets = append(nets, n)
	}
	return nets, nil
}

// emulatorQuota parses "region/family=limit,…".
func (c *Config) emulatorQuota() (map[string]map[string]int, error) {
	quota := map[string]map[string]int{}
	for _, item := range strings.Split(c.EmulatorQuota, ",") {
		if item = strings.TrimSpace(item); item == "" {
			continue
		}
		key, value, ok := strings.Cut(item, "=")
		region, family, ok2 := strings.Cut(key, "/")
		limit, err := strconv.Atoi(strings.TrimSpace(value))
		if !ok || !ok2 || err != nil || limit < 0 {
			return nil, fmt.Errorf("--emulator-quota: %q is not region/family=limit", item)
		}
		region, family = strings.TrimSpace(region), strings.TrimSpace(family)
		if quota[region] == nil {
			quota[region] = map[string]int{}
		}
		quota[region][family] = limit
	}
	return quota, nil
}

// identities are the user-assigned identities instances may be given.
func (c Config) identities() []string {
	var ids []string
	for _, id := range strings.Split(c.Azure.Identities, ",") {
		if id = strings.TrimSpace(id); id != "" {
			ids = append(ids, id)
		}
	}
	return ids
}

// openStore opens the portal's records: PostgreSQL when --database is
// given, else the SQLite file in the data directory. Opening migrates an
// older build's database, after a backup (guardUpgrade), and refuses a
// newer build's.
func openStore(ctx context.Context, c Config, log *slog.Logger) (*store.DB, error) {
	if c.Database != "" {
		if _, err := postgresURL(c.Database); err != nil {
			return nil, fmt.Errorf("--database: %w", err)
		}
	}
	if err := guardUpgrade(ctx, c, log); err != nil {
		return nil, err
	}
	if c.Database != "" {
		return store.OpenPostgres(ctx, c.Database)
	}
	return store.Open(ctx, filepath.Join(c.Data, "instancehub.db"))
}

// postgresURL checks that s is a PostgreSQL URL the driver reads, and
// returns it as messages may show it: without its password and options.
// Its errors quote neither s nor the driver's reason, either of which may
// hold a part of the password. A host with an @ is refused: it is the rest
// of a password whose @ was not percent-encoded, which the driver would
// name when it could not reach it.
func postgresURL(s string) (string, error) {
	scheme, _, _ := strings.Cut(s, "://")
	if scheme != "postgres" && scheme != "postgresql" {
		given := "the value (not shown: it may hold a password) is"
		if urlScheme.MatchString(scheme) {
			given = scheme + "://… is"
		}
		return "", fmt.Errorf("%s not a postgres:// URL; give one such as postgres://user:password@host/db", given)
	}
	cfg, err := pgconn.ParseConfig(s)
	if err == nil {
		for _, f := range append([]*pgconn.FallbackConfig{{Host: cfg.Host}}, cfg.Fallbacks...) {
			if strings.Contains(f.Host, "@") {
				err = errors.New("a host with an @")
			}
		}
	}
	if err != nil {
		return "", errors.New("PostgreSQL cannot read this URL (neither it nor the reason is shown: either may hold the password); " +
			"write it as postgres://user:password@host:port/db?option=value, with any of @ : / ? # % in the password percent-encoded")
	}
	shown := url.URL{Scheme: "postgres", User: url.User(cfg.User), Path: "/" + cfg.Database}
	if strings.HasPrefix(cfg.Host, "/") { // a Unix socket's directory
		shown.RawQuery = url.Values{"host": {cfg.Host}}.Encode()
	} else {
		shown.Host = net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port)))
	}
	return shown.String(), nil
}

// urlScheme is what a URL's scheme may be (RFC 3986, 3.1).
var urlScheme = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]{0,19}$`)

// publicURL is the portal's address as people open it: --public-url, else
// served, the address it serves on.
func (c *Config) publicURL(served *url.URL) (*url.URL, error) {
	if c.PublicURL == "" {
		return served, nil
	}
	u, err := url.Parse(c.PublicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.Trim(u.Path, "/") != "" ||
		u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("--public-url %q: give the portal's origin, such as https://portal.example.com", c.PublicURL)
	}
	return &url.URL{Scheme: u.Scheme, Host: u.Host}, nil
}

// portalHosts are the names the portal answers on (web.Config.Hosts), from
// its address as people open it: --public-url's host; without it, the
// address it serves on and, when that is a loopback address, the loopback
// addresses and localhost and every name under it on that port (browsers
// take *.localhost to this machine themselves, no DNS answers for them).
// A name without a port is also taken with the scheme's own. Serving on
// every interface without --public-url, the portal cannot know its names:
// it answers on any (nil).
func (c *Config) portalHosts(public *url.URL) []string {
	host, port := strings.ToLower(public.Hostname()), public.Port()
	schemes := map[string]string{"http": "80", "https": "443"}
	if port == "" {
		port = schemes[public.Scheme]
	}
	names := []string{net.JoinHostPort(host, port)}
	if port == schemes[public.Scheme] {
		// Browsers leave the scheme's own port out.
		names = append(names, strings.TrimSuffix(names[0], ":"+port))
	}
	ip := net.ParseIP(host)
	switch {
	case c.PublicURL != "":
	case ip != nil && ip.IsUnspecified():
		return nil
	case ip != nil && ip.IsLoopback():
		for _, h := range []string{"localhost", "127.0.0.1", "::1"} {
			if n := net.JoinHostPort(h, port); n != names[0] {
				names = append(names, n)
			}
		}
		names = append(names, "*.localhost:"+port)
	}
	return names
}

// localApps is the configuration of the offline Jupyter servers.
func (c *Config) localApps() (localapps.Config, error) {
	uids, err := localapps.ParseUIDRange(c.SandboxUIDs)
	if err != nil {
		return localapps.Config{}, fmt.Errorf("--sandbox-uids: %w", err)
	}
	memory, err := parseSize(c.SandboxMemory)
	if err != nil || memory < 64<<20 {
		return localapps.Config{}, fmt.Errorf("--sandbox-memory %q: give a size of 64MiB or more, such as 4GiB", c.SandboxMemory)
	}
	if c.SandboxProcesses < 16 {
		return localapps.Config{}, fmt.Errorf("--sandbox-processes %d: give 16 or more (Jupyter and a kernel need about a dozen threads)", c.SandboxProcesses)
	}
	return localapps.Config{
		Jupyter: c.Jupyter, DataDir: c.Data, MaxServers: c.JupyterMax, Bwrap: c.Bwrap,
		UIDs: uids, MemoryMax: memory, Processes: c.SandboxProcesses, Unsafe: c.UnsafeLocalApps,
	}, nil
}

// parseSize reads a size in bytes with a binary unit: 512MiB, 4GiB (or 4G).
func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	units := []struct {
		suffix string
		shift  uint
	}{{"TiB", 40}, {"GiB", 30}, {"MiB", 20}, {"KiB", 10}, {"T", 40}, {"G", 30}, {"M", 20}, {"K", 10}, {"B", 0}}
	for _, u := range units {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			v, err := strconv.ParseInt(strings.TrimSpace(n), 10, 64)
			if err != nil || v < 0 || v > 1<<(62-u.shift) {
				return 0, fmt.Errorf("%q is not a size", s)
			}
			return v << u.shift, nil
		}
	}
	return 0, fmt.Errorf("%q is not a size: give a unit, such as 512MiB or 4GiB", s)
}
