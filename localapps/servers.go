// Package localapps runs the applications of the offline emulator's
// instances: Debian's Jupyter Notebook server (jupyter-notebook 6.4.12 on
// Debian 12), which also serves the Terminal. A server is started on the
// first open of a running instance's application, not for every running VM:
// one costs about 90 MB of memory and each kernel about 70 MB more, so a
// laptop holds a handful, not the thousands of instances the emulator keeps.
// A cap (default 8) stops the least recently used server when another one
// must start.
//
// Each server runs in a bubblewrap sandbox of its own (sandbox.go), as
// separate from the portal and from other instances as a VM of its own
// would be: its own home, the owner's files, nothing else of the machine
// but /usr and a few files of /etc, no network but its own loopback, an
// unprivileged user, and limits. The gateway reaches it through a Unix
// socket (DialContext). Where no sandbox can be made, the applications are
// off with the reason, unless Config.Unsafe runs them as the portal's own
// user, as earlier versions did.
package localapps

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/instancehub/instancehub"
)

// Config says where Jupyter is and how many servers may run at once.
type Config struct {
	// Jupyter is the jupyter command: a path, or a name looked up in PATH
	// ("jupyter" when empty).
	Jupyter string
	// DataDir is the portal's data directory. Notebooks live in
	// DataDir/notebooks/<owner's user id>, shared by the owner's instances
	// as the reference product's workspace file share is, so they outlive
	// any one instance.
	DataDir string
	// MaxServers is how many servers may run at once (default 8).
	MaxServers int
	// StartTimeout bounds the wait for a new server to answer (default 60 s;
	// a cold start on a busy 2-core machine takes a few seconds).
	StartTimeout time.Duration
	// Terminal holds the browser build of xterm.js 3.8 ("xterm.js" and
	// "fit.js"), which the Terminal's page loads instead of Debian's (see
	// terminalPage). Without it the offline Terminal is off, with that reason.
	Terminal fs.FS
	// Bwrap is bubblewrap's command ("bwrap" when empty).
	Bwrap string
	// UIDs are the user ids the sandboxes run as when the portal runs as
	// root: an owner's instances run as UIDs.First + the owner's user id,
	// so that the owner's files are theirs and no one else's. Unset,
	// DefaultUIDs. Ignored when the portal is not root: the sandboxes then
	// run as its user, in user namespaces of their own.
	UIDs UIDRange
	// MemoryMax caps the memory of a sandbox's processes, in bytes: each
	// gets its instance's size's memory, at most this (default 4 GiB).
	MemoryMax int64
	// Processes bounds the processes and threads of a sandbox (default 512).
	Processes int
	// Unsafe runs Jupyter without a sandbox, as the portal's own user with
	// that user's access to everything: the portal's database and
	// configuration included. For a laptop where bubblewrap cannot run.
	Unsafe bool
	// Metrics, if set, is told how long each server took to start.
	Metrics Metrics
	Logger  *slog.Logger
}

// Metrics counts the servers' starts for an operator's dashboards.
type Metrics interface {
	// JupyterStarted: a server answered (err nil), or gave up, took after
	// it was started.
	JupyterStarted(took time.Duration, err error)
}

// Servers implements instancehub.ApplicationUpstreams with one Jupyter
// server per running instance, started lazily and stopped on Stop, on
// eviction and on Close.
type Servers struct {
	cfg Config

	mu      sync.Mutex
	servers map[string]*server // by instance name
	// evicted holds, by instance name, the servers stopped to make room
	// (MaxServers) whose instance has not opened them again since.
	evicted map[string]*server
	closed  bool
	swept   bool // the folders of an earlier portal's servers are gone

	stopping sync.WaitGroup // servers stopped in the background, which Close awaits

	checked     sync.Once
	unavailable string // why no sandbox can be made here, once checked

	// Once found, Jupyter and Jupyter's R kernel are not looked for again
	// at every details view (a stat of each folder on PATH: a fifth of the
	// view's CPU); until then they are, so that installing one while the
	// portal runs is seen at the next view.
	jupyterFound, rKernelFound atomic.Bool
}

var (
	_ instancehub.ApplicationUpstreams    = (*Servers)(nil)
	_ instancehub.ApplicationAvailability = (*Servers)(nil)
	_ instancehub.ApplicationWarning      = (*Servers)(nil)
	_ instancehub.ApplicationRestarts     = (*Servers)(nil)
)

// ApplicationWarning tells Owners that Jupyter runs without a sandbox, when
// Config.Unsafe asks for that.
func (s *Servers) ApplicationWarning() string {
	if !s.cfg.Unsafe {
		return ""
	}
	return "The portal was started with --unsafe-local-apps: the offline Jupyter, its kernels and terminals run as the portal's own user, " +
		"so any notebook can read and change the portal's database and configuration, its secrets and every user's files. " +
		"Restart it without that flag, with bubblewrap installed, to run each instance in a sandbox of its own."
}

// New returns Servers that start nothing until an application is opened.
func New(cfg Config) *Servers {
	if cfg.Jupyter == "" {
		cfg.Jupyter = "jupyter"
	}
	if cfg.MaxServers <= 0 {
		cfg.MaxServers = 8
	}
	if cfg.StartTimeout <= 0 {
		cfg.StartTimeout = 60 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Bwrap == "" {
		cfg.Bwrap = "bwrap"
	}
	if cfg.UIDs == (UIDRange{}) {
		cfg.UIDs = DefaultUIDs
	}
	if cfg.MemoryMax <= 0 {
		cfg.MemoryMax = 4 << 30
	}
	if cfg.Processes <= 0 {
		cfg.Processes = 512
	}
	return &Servers{cfg: cfg, servers: map[string]*server{}, evicted: map[string]*server{}}
}

// ApplicationUnavailable says why the application of slug cannot run on the
// offline instance inst, "" when it can, for the page to show the reason
// instead of a link: the offline cloud's answer to
// instancehub.ApplicationAvailability.
func (s *Servers) ApplicationUnavailable(_ context.Context, _ *instancehub.Instance, slug string) string {
	switch slug {
	case "jupyterlab":
		return "JupyterLab is not packaged by Debian, so the offline emulator cannot run it; on Azure it runs on the instance."
	case "rstudio":
		if s.hasRKernel() {
			return "RStudio is not packaged by Debian, so the offline emulator cannot run it; R is in Jupyter instead (New, then R); on Azure RStudio runs on the instance."
		}
		return "RStudio is not packaged by Debian, so the offline emulator cannot run it; on Azure it runs on the instance. For R in Jupyter, install Debian's r-cran-irkernel (make jupyter)."
	case "jupyter", "terminal":
		if !s.jupyterFound.Load() {
			if _, err := exec.LookPath(s.cfg.Jupyter); err != nil {
				return notInstalled(s.cfg.Jupyter)
			}
			s.jupyterFound.Store(true)
		}
		if reason := s.Check(); reason != "" {
			return reason
		}
		if slug == "terminal" && !s.hasTerminal() {
			return terminalMissing
		}
	}
	return ""
}

// terminalMissing is why the offline Terminal is off when the portal was
// built without xterm.js: Debian's own build does not run in a browser.
const terminalMissing = "The portal was built without xterm.js (run make), and the terminal page of Debian's Jupyter Notebook does not load without it; on Azure the Terminal runs in JupyterLab."

func (s *Servers) hasTerminal() bool {
	if s.cfg.Terminal == nil {
		return false
	}
	for _, name := range []string{"xterm.js", "fit.js"} {
		if _, err := fs.Stat(s.cfg.Terminal, name); err != nil {
			return false
		}
	}
	return true
}

func notInstalled(jupyter string) string {
	return fmt.Sprintf("Jupyter is not installed on the portal's machine (%s not found), so the offline emulator cannot run it; install Debian's jupyter-notebook, python3-ipykernel and python3-terminado.", jupyter)
}

// Upstream returns the base URL of the Jupyter server of the running
// instance inst, starting it if it is not running, and inst's secret, which
// the server takes as its token. Jupyter and the Terminal share one server
// and one base URL, the server's root: the gateway maps an application's
// origin onto it path for path, and opens the Terminal at /terminals/1.
// EUNAVAILABLE for JupyterLab and RStudio, when Jupyter is not installed, or
// when the server does not answer in time; ECONFLICT when inst is not
// running; ENOTFOUND for any other application.
func (s *Servers) Upstream(ctx context.Context, inst *instancehub.Instance, app instancehub.Application) (*url.URL, string, error) {
	switch app.Slug {
	case "jupyter":
	case "terminal":
		if !s.hasTerminal() {
			return nil, "", instancehub.Errorf(instancehub.EUNAVAILABLE, "%s", terminalMissing)
		}
	case "jupyterlab", "rstudio":
		return nil, "", instancehub.Errorf(instancehub.EUNAVAILABLE, "%s", s.ApplicationUnavailable(ctx, inst, app.Slug))
	default:
		return nil, "", instancehub.Errorf(instancehub.ENOTFOUND, "%s does not offer %s.", inst.Name, app.Label)
	}
	if inst.State != instancehub.StateRunning {
		return nil, "", instancehub.Errorf(instancehub.ECONFLICT, "%s is not running; start it to open %s.", inst.Name, app.Label)
	}
	if inst.AppSecret == "" {
		// An empty token would turn Jupyter's authentication off.
		return nil, "", instancehub.Errorf(instancehub.EUNAVAILABLE, "%s has no application secret, so its Jupyter cannot be opened safely.", inst.Name)
	}
	if reason := s.Check(); reason != "" { // checked once, kept
		return nil, "", instancehub.Errorf(instancehub.EUNAVAILABLE, "%s", reason)
	}
	srv, err := s.serverFor(inst)
	if err != nil {
		return nil, "", err
	}
	if err := srv.waitReady(ctx); err != nil {
		return nil, "", err
	}
	return srv.base, inst.AppSecret, nil
}

// serverFor returns inst's server, started now if it has none, it has
// exited, or it belongs to an earlier instance of the same name (another
// secret or owner). Starting one beyond the cap stops the least recently
// used. The gateway asks on every request: a running server costs a map
// look-up, no more.
func (s *Servers) serverFor(inst *instancehub.Instance) (*server, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, instancehub.Errorf(instancehub.EUNAVAILABLE, "The portal is shutting down.")
	}
	if srv := s.servers[inst.Name]; srv != nil {
		if srv.serves(inst) && !srv.exited() {
			srv.lastUsed = time.Now()
			return srv, nil
		}
		delete(s.servers, inst.Name)
		s.stopping.Go(srv.stop)
	}
	if !s.swept {
		s.sweep()
	}
	for len(s.servers) >= s.cfg.MaxServers {
		s.evictOldest()
	}
	user, err := s.userOf(inst.OwnerID)
	if err != nil {
		return nil, err
	}
	srv, err := start(s.cfg, inst, user)
	if err != nil {
		return nil, err
	}
	s.servers[inst.Name] = srv
	delete(s.evicted, inst.Name)
	return srv, nil
}

// sweep removes the configuration folders (tokens included) that servers
// of a portal that died left behind; s.mu is held. Only one portal runs per
// data directory, so none of them is in use.
func (s *Servers) sweep() {
	s.swept = true
	if err := os.RemoveAll(filepath.Join(s.cfg.DataDir, "jupyter")); err != nil {
		s.cfg.Logger.Warn("jupyter folders left by an earlier portal", "err", err)
	}
}

// evictOldest stops the least recently used server; s.mu is held.
func (s *Servers) evictOldest() {
	var oldest *server
	for _, srv := range s.servers {
		if oldest == nil || srv.lastUsed.Before(oldest.lastUsed) {
			oldest = srv
		}
	}
	delete(s.servers, oldest.name)
	s.evicted[oldest.name] = oldest
	s.cfg.Logger.Info("jupyter stopped to make room", "instance", oldest.name, "max", s.cfg.MaxServers)
	s.stopping.Go(oldest.stop)
}

// Stop stops the Jupyter server of instance name, if one runs, and waits
// for its processes to end. Call it when the instance stops, restarts or is
// deleted; the next Upstream after a start brings a server back.
func (s *Servers) Stop(name string) {
	s.mu.Lock()
	srv := s.servers[name]
	delete(s.servers, name)
	delete(s.evicted, name) // its owner stopped it: nothing to tell
	s.mu.Unlock()
	if srv != nil {
		srv.stop()
	}
}

// Evicted reports whether inst's server was stopped to make room for
// another's since inst last used it (MaxServers run at once, the least
// recently used stopped first), and MaxServers: its kernels and what they
// held are gone, and its next open starts a new server.
func (s *Servers) Evicted(inst *instancehub.Instance) (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	srv := s.evicted[inst.Name]
	return s.cfg.MaxServers, srv != nil && srv.serves(inst)
}

// Serving tells whether a server runs for instance name, for the probe of
// idle shutdown, which must never start one.
func (s *Servers) Serving(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	srv := s.servers[name]
	return srv != nil && !srv.exited()
}

// Running lists the instances whose server runs.
func (s *Servers) Running() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, 0, len(s.servers))
	for name, srv := range s.servers {
		if !srv.exited() {
			names = append(names, name)
		}
	}
	return names
}

// Close stops every server and refuses to start more: call it when the
// portal shuts down, so that no Jupyter outlives it.
func (s *Servers) Close() error {
	s.mu.Lock()
	s.closed = true
	all := s.servers
	s.servers = map[string]*server{}
	s.mu.Unlock()
	for _, srv := range all {
		s.stopping.Go(srv.stop)
	}
	s.stopping.Wait()
	return nil
}

// errExited is a server that ended before it answered.
var errExited = errors.New("jupyter exited")

// rKernelSpecs are where Debian's r-cran-irkernel puts Jupyter's R kernel
// spec: under /usr, which every sandbox sees read-only.
var rKernelSpecs = []string{"/usr/share/jupyter/kernels/ir/kernel.json", "/usr/local/share/jupyter/kernels/ir/kernel.json"}

// hasRKernel says whether Jupyter offers R here.
func (s *Servers) hasRKernel() bool {
	if s.rKernelFound.Load() {
		return true
	}
	for _, path := range rKernelSpecs {
		if _, err := os.Stat(path); err == nil {
			s.rKernelFound.Store(true)
			return true
		}
	}
	return false
}
