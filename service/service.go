// Package service holds the use cases: every action of the portal, from
// whichever door it comes (pages, the JSON API, the command line), is
// authorized, validated, checked against quota, carried out and audited
// here. Handlers call it and nothing else.
package service

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/instancehub/instancehub"
)

// Store is every store the use cases read and write: the store package's
// DB is one, on SQLite or PostgreSQL.
type Store interface {
	instancehub.InstanceStore
	instancehub.UserStore
	instancehub.SessionStore
	instancehub.TokenStore
	instancehub.RoleStore
	instancehub.AuditStore
	instancehub.LoginThrottle
	instancehub.QuotaStore
	instancehub.QuotaRequestStore
	instancehub.AutomationStore
	instancehub.RunningTimeStore
}

// Config is what a Service is built with. Store is required. Cloud and
// Operations serve every use case of instances and quota, and may be left
// out by the commands that manage accounts, tokens and the audit log.
type Config struct {
	Store      Store
	Cloud      instancehub.Cloud
	Operations instancehub.Operations
	// Prices, if set, prices sizes for the cost estimates.
	Prices instancehub.PriceList
	// Applications, if set, also says which applications cannot run where.
	Applications instancehub.ApplicationAvailability
	// Probe, if set, asks a running instance's Jupyter how it is used.
	Probe instancehub.ApplicationProbe
	// RoleMap maps values of the identity provider's groups claim to roles.
	RoleMap map[string]instancehub.Role
	// UserAssignedIdentities are the managed identities an instance may be
	// given (Service.UserAssignedIdentities).
	UserAssignedIdentities []string
	// ArchiveDir is the folder of the audit log's archives made in the
	// portal.
	ArchiveDir string
	// Metrics, if set, is told of what the audit log records.
	Metrics instancehub.ServiceMetrics
	// Changes, if set, tells open pages which instances change.
	Changes instancehub.ChangeFeed
	Logger  *slog.Logger
	// Now is the service's clock; time.Now if nil.
	Now func() time.Time
	// SetupScripts says the engine runs instances' setup scripts here
	// (offline in their sandboxes, on Azure through the Custom Script
	// extension); without it, creates with scripts are refused.
	SetupScripts bool
	// SetupScriptFiles says a script may be a file of the owner's files
	// folder, which the runner reads (offline: the sandbox has it); on
	// Azure the VM has no such folder, and scripts are given inline.
	SetupScriptFiles bool
}

// New returns the Service of cfg.
func New(cfg Config) *Service {
	st := cfg.Store
	return &Service{
		Instances: st, Users: st, Sessions: st, Tokens: st, Roles: st, Audit: st, Throttle: st, Quotas: st, QuotaRequests: st,
		Automation: st, RunningTimes: st, Cloud: cfg.Cloud, Engine: cfg.Operations,
		Prices: cfg.Prices, Applications: cfg.Applications, Probe: cfg.Probe, RoleMap: cfg.RoleMap,
		UserAssignedIdentities: cfg.UserAssignedIdentities, ArchiveDir: cfg.ArchiveDir,
		Metrics: cfg.Metrics, Changes: cfg.Changes, Logger: cfg.Logger, Now: cfg.Now,
		SetupScripts: cfg.SetupScripts, SetupScriptFiles: cfg.SetupScriptFiles,
	}
}

// Service applies the product's rules: who may do what, what is valid, and
// what an action does to an instance; it writes the audit log. Its stores,
// cloud and engine are New's; the other fields may be changed before use.
type Service struct {
	Instances instancehub.InstanceStore
	Users     instancehub.UserStore
	Sessions  instancehub.SessionStore
	Tokens    instancehub.TokenStore
	Roles     instancehub.RoleStore
	Audit     instancehub.AuditStore
	Throttle  instancehub.LoginThrottle
	Quotas    instancehub.QuotaStore
	// QuotaRequests are people's asks for more quota, which Owners decide.
	QuotaRequests instancehub.QuotaRequestStore
	Automation    instancehub.AutomationStore
	// RunningTimes is the running time recorded of instances, for the
	// cost estimates.
	RunningTimes instancehub.RunningTimeStore
	Cloud        instancehub.Cloud
	// Engine carries operations out.
	Engine instancehub.Operations
	// Changes, if set, tells open pages which instances change
	// (WatchInstances).
	Changes instancehub.ChangeFeed
	// Prices, if set, gives the cost estimates the prices of sizes.
	Prices instancehub.PriceList
	// Applications, if set, also says which applications cannot run where
	// (the offline emulator's Jupyter servers run no JupyterLab).
	Applications instancehub.ApplicationAvailability
	Logger       *slog.Logger
	// Probe, if set, asks a running instance's Jupyter how it is used.
	Probe instancehub.ApplicationProbe
	// RoleMap maps values of the identity provider's groups claim to roles.
	RoleMap map[string]instancehub.Role
	// UserAssignedIdentities are the resource IDs of the user-assigned
	// managed identities an instance may be given: an identity's rights are
	// anyone's who runs code on its VM, so only those an operator listed.
	UserAssignedIdentities []string
	// ArchiveDir is the folder archives of the audit log made in the
	// portal are written to, and downloaded from; ArchiveLimit is the most
	// events one archive moves, 0 for MaxAuditArchive.
	ArchiveDir   string
	ArchiveLimit int
	// SetupScripts says instances' setup scripts run here, and
	// SetupScriptFiles that they may be files of the owner's (Config's).
	SetupScripts     bool
	SetupScriptFiles bool
	// Metrics, if set, is told of what the audit log records.
	Metrics instancehub.ServiceMetrics
	Now     func() time.Time

	admission sync.Mutex // creates are admitted one at a time (quota)
	activity  throttle   // activity is written once a minute per instance
	asked     askedApps  // what the instances' Jupyters last said, for their details (activity.go)
	images    imagesSeen // the newest image versions last read (osimage.go)
	// Wait pauses for d, or until ctx ends; nil waits on a timer. A slowed
	// sign-in waits with it, so that tests need not.
	Wait func(ctx context.Context, d time.Duration) error
}

// metrics returns Metrics, or what tells nobody.
func (s *Service) metrics() instancehub.ServiceMetrics {
	if s.Metrics == nil {
		return noMetrics{}
	}
	return s.Metrics
}

// noMetrics tells nobody.
type noMetrics struct{}

func (noMetrics) Audited(*instancehub.AuditEvent, bool) {}

func (s *Service) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.Default()
	}
	return s.Logger
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}
