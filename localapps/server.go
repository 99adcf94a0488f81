package localapps

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/instancehub/instancehub"
)

// server is one Jupyter Notebook server, for one instance: in a sandbox of
// its own, where it serves on a Unix socket, or (Config.Unsafe) as the
// portal's user on a loopback port.
type server struct {
	name     string
	ownerID  int64
	secret   string
	folders  folders
	lastUsed time.Time // guarded by Servers.mu

	// host is the name the gateway reaches a sandboxed server by: Servers'
	// dialer knows it, and Jupyter accepts it as its own (local_hostnames).
	// It is new for each server, so that no connection kept for one is
	// ever used for another.
	host string
	// runDir holds the folder of the socket open, so that the socket is
	// reached through /proc/self/fd whatever the data directory's length
	// (a socket's path has room for 107 bytes), and only the socket of this
	// very server.
	runDir *os.File
	dirMu  sync.RWMutex // closing runDir waits for the dials under way
	config string       // unsafe: its own configuration folder, token inside

	ready    chan struct{} // closed once base answers or the start failed
	base     *url.URL      // set before ready closes
	readyErr error         // set before ready closes

	mu      sync.Mutex
	proc    *process // the current attempt's
	stopped bool
}

// start prepares inst's folders and launches its server, returning at once;
// waitReady waits for it.
func start(cfg Config, inst *instancehub.Instance, user sandboxUserID) (*server, error) {
	jupyter, err := exec.LookPath(cfg.Jupyter)
	if err != nil {
		return nil, instancehub.Errorf(instancehub.EUNAVAILABLE, "%s", notInstalled(cfg.Jupyter))
	}
	srv := &server{name: inst.Name, ownerID: inst.OwnerID, secret: inst.AppSecret, folders: instanceFolders(cfg.DataDir, inst),
		lastUsed: time.Now(), ready: make(chan struct{})}
	if err := srv.folders.prepare(user, !cfg.Unsafe); err != nil {
		return nil, fmt.Errorf("prepare the folders of %s: %w", inst.Name, err)
	}
	var launch func() (*url.URL, *process, error)
	if cfg.Unsafe {
		if srv.config, err = unsafeConfig(cfg, inst); err != nil {
			return nil, fmt.Errorf("prepare jupyter for %s: %w", inst.Name, err)
		}
		launch = func() (*url.URL, *process, error) { return srv.runUnsafe(jupyter) }
	} else {
		if !strings.HasPrefix(jupyter, "/usr/") {
			return nil, instancehub.Errorf(instancehub.EUNAVAILABLE, "Jupyter (%s) is outside /usr, the only part of the machine its sandbox sees; install Debian's jupyter-notebook.", jupyter)
		}
		sb, err := srv.sandbox(cfg, inst, user)
		if err != nil {
			if srv.runDir != nil {
				srv.runDir.Close()
			}
			return nil, fmt.Errorf("prepare the sandbox of %s: %w", inst.Name, err)
		}
		launch = func() (*url.URL, *process, error) { return srv.runSandboxed(sb, jupyter) }
	}
	go srv.launch(cfg, launch)
	return srv, nil
}

// sandbox describes srv's sandbox: its folders, its user, its limits, and
// Jupyter's configuration and terminal page, which it reads from files of
// its own, read-only.
func (srv *server) sandbox(cfg Config, inst *instancehub.Instance, user sandboxUserID) (*sandbox, error) {
	srv.host = strings.ToLower(inst.Name) + "." + randomID(6) + ".sandbox.invalid"
	dir, err := os.Open(srv.folders.run)
	if err != nil {
		return nil, err
	}
	srv.runDir = dir
	files := map[string][]byte{}
	static := ""
	if cfg.Terminal != nil {
		static = sandboxConfig + "/static"
		page, err := terminalFiles(cfg.Terminal)
		if err != nil {
			return nil, err
		}
		for name, b := range page {
			files[static+"/"+name] = b
		}
	}
	config, err := jupyterConfig(inst.AppSecret, srv.host, static)
	if err != nil {
		return nil, err
	}
	files[sandboxConfig+"/jupyter_notebook_config.py"] = config
	memory := cfg.MemoryMax
	if vm := int64(inst.MemoryGiB * (1 << 30)); vm > 0 && vm < memory {
		memory = vm
	}
	return &sandbox{
		bwrap: cfg.Bwrap, hostname: strings.ToLower(inst.Name), user: user,
		home: srv.folders.home, code: srv.folders.code, run: srv.folders.run,
		memory: memory, tmp: memory, processes: cfg.Processes, files: files,
	}, nil
}

// jupyterConfig is the server's configuration: the gateway's sign-in (see
// loginConfig), the sandbox's host name when it has one, and the folder of
// the terminal page's scripts when there is one.
func jupyterConfig(secret, host, static string) ([]byte, error) {
	quoted, err := json.Marshal("token " + secret) // a valid Python string literal
	if err != nil {
		return nil, err
	}
	settings := strings.Replace(loginConfig, "@SECRET@", string(quoted), 1)
	if host != "" {
		// Jupyter refuses a Host that is not its own (a defence against
		// DNS rebinding); the gateway sends the sandbox's.
		h, _ := json.Marshal(host)
		settings += "c.NotebookApp.local_hostnames = [" + string(h) + "]\n"
	}
	if static != "" {
		dir, _ := json.Marshal(static)
		settings += "c.NotebookApp.extra_static_paths = [" + string(dir) + "]\n"
	}
	return []byte(settings), nil
}

// runSandboxed starts Jupyter in its sandbox, on its socket, in the home.
func (srv *server) runSandboxed(sb *sandbox, jupyter string) (*url.URL, *process, error) {
	cmd, p, err := sb.command([]string{jupyter, "notebook", "--no-browser",
		"--config=" + sandboxConfig + "/jupyter_notebook_config.py",
		"--NotebookApp.sock=" + sandboxSocket, "--NotebookApp.base_url=/", "--notebook-dir=" + sandboxHome})
	if err != nil {
		return nil, nil, err
	}
	proc, err := srv.run(cmd, p)
	if err != nil {
		return nil, nil, err
	}
	return &url.URL{Scheme: "http", Host: srv.host, Path: "/"}, proc, nil
}

// dial connects to a sandboxed server's socket. The folder's descriptor
// is held while it connects: once closed, its number may be another
// file's.
func (srv *server) dial(ctx context.Context) (net.Conn, error) {
	srv.dirMu.RLock()
	defer srv.dirMu.RUnlock()
	if srv.runDir == nil {
		return nil, fmt.Errorf("the sandbox of %s has stopped", srv.name)
	}
	return dialSocketIn(ctx, srv.runDir, filepath.Base(sandboxSocket))
}

// unsafeConfig makes the unsandboxed server's configuration folder, which
// holds its token, readable by the portal's user alone rather than on the
// command line, where every user of the machine could read it. The folder
// also keeps the developer's own ~/.jupyter settings (a password, another
// base URL) out. It is the server's alone, so that the folder of a server
// being stopped is not the one a new server of the same instance reads.
func unsafeConfig(cfg Config, inst *instancehub.Instance) (string, error) {
	parent := filepath.Join(cfg.DataDir, "jupyter")
	if err := privateDir(parent); err != nil {
		return "", err
	}
	config, err := os.MkdirTemp(parent, inst.Name+"-")
	if err != nil {
		return "", err
	}
	static := ""
	if cfg.Terminal != nil {
		static = filepath.Join(config, "static")
		page, err := terminalFiles(cfg.Terminal)
		if err != nil {
			return "", err
		}
		for name, b := range page {
			path := filepath.Join(static, filepath.FromSlash(name))
			if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
				return "", err
			}
			if err := os.WriteFile(path, b, 0o600); err != nil {
				return "", err
			}
		}
	}
	settings, err := jupyterConfig(inst.AppSecret, "", static)
	if err != nil {
		return "", err
	}
	return config, os.WriteFile(filepath.Join(config, "jupyter_notebook_config.py"), settings, 0o600)
}

// runUnsafe starts Jupyter as the portal's user on a free loopback port,
// in the owner's folder: no sandbox, only a fresh environment.
func (srv *server) runUnsafe(jupyter string) (*url.URL, *process, error) {
	port, err := freePort()
	if err != nil {
		return nil, nil, fmt.Errorf("jupyter for %s: %w", srv.name, err)
	}
	args := []string{"notebook", "--no-browser", "--ip=127.0.0.1", "--port=" + strconv.Itoa(port),
		"--NotebookApp.port_retries=0", "--NotebookApp.base_url=/", "--notebook-dir=" + srv.folders.code}
	if os.Geteuid() == 0 {
		args = append(args, "--allow-root") // containers and CI run as root
	}
	cmd := exec.Command(jupyter, args...)
	// Terminals open where the process runs: in the owner's folder, as
	// kernels do, not wherever the portal was started.
	cmd.Dir = srv.folders.code
	cmd.Env = environment(currentUser())
	for i, kv := range cmd.Env {
		if strings.HasPrefix(kv, "HOME=") {
			cmd.Env[i] = "HOME=" + srv.folders.home
		}
	}
	cmd.Env = append(cmd.Env, "JUPYTER_CONFIG_DIR="+srv.config, "JUPYTER_RUNTIME_DIR="+filepath.Join(srv.config, "runtime"))
	proc, err := srv.run(cmd, nil)
	if err != nil {
		return nil, nil, err
	}
	return &url.URL{Scheme: "http", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), Path: "/"}, proc, nil
}

// terminalPage replaces the script of Notebook's terminal page. Debian
// builds that script (terminal/js/main.min.js) with its own xterm.js
// package, which is CommonJS and stops in a browser ("exports is not
// defined"). This one loads the page's modules one by one, as Notebook does
// in development, with xterm.js 3.8's browser build, the release Notebook
// 6.4 was made for. Notebook serves a file of extra_static_paths in place of
// its own of the same path.
const terminalPage = `// instancehub: Debian's bundle of this page carries an xterm.js that does
// not run in a browser; load the page's modules with xterm.js 3.8's own build.
require.config({paths: {
    "xterm": "components/instancehub-xterm/xterm",
    "xtermjs-fit": "components/instancehub-xterm/fit"
}});
requirejs(["terminal/js/main"]);
`

// terminalFiles are the replacement of the terminal page's script and the
// xterm.js files it loads, by their path under a static folder.
func terminalFiles(terminal fs.FS) (map[string][]byte, error) {
	files := map[string][]byte{"terminal/js/main.min.js": []byte(terminalPage)}
	for _, name := range []string{"xterm.js", "fit.js"} {
		b, err := fs.ReadFile(terminal, name)
		if err != nil {
			return nil, fmt.Errorf("xterm.js for the terminal: %w", err)
		}
		files["components/instancehub-xterm/"+name] = b
	}
	return files, nil
}

// loginConfig makes the gateway the only way in: a request is signed in when
// it carries the instance's secret in its Authorization header, as the
// gateway sends it. Jupyter's own token stays empty, because Notebook 6
// writes its token into every page it serves (data-jupyter-api-token, the
// dashboard link), where any notebook's script could read the secret. A
// request signed in so skips Jupyter's XSRF check, as a token's would: the
// gateway refuses cross-origin writes itself.
const loginConfig = `import hmac
from notebook.auth.login import LoginHandler

_SECRET = @SECRET@.encode()


class GatewayLogin(LoginHandler):
    @classmethod
    def get_user(cls, handler):
        sent = handler.request.headers.get("Authorization", "").encode()
        if hmac.compare_digest(sent, _SECRET):
            handler._token_authenticated = True
            return "owner"
        return None

    @classmethod
    def get_login_available(cls, settings):
        return True


c.NotebookApp.login_handler_class = GatewayLogin
c.NotebookApp.token = ""
c.NotebookApp.password = ""
`

// launch starts Jupyter and waits until it answers. Unsandboxed, a port
// another program took between choosing and binding it is retried with
// another.
func (srv *server) launch(cfg Config, run func() (*url.URL, *process, error)) {
	began := time.Now()
	defer close(srv.ready)
	if cfg.Metrics != nil {
		defer func() { cfg.Metrics.JupyterStarted(time.Since(began), srv.readyErr) }()
	}
	deadline := began.Add(cfg.StartTimeout)
	for attempt := 1; ; attempt++ {
		base, proc, err := run()
		if err != nil {
			cfg.Logger.Warn("jupyter did not start", "instance", srv.name, "err", err)
			srv.readyErr = instancehub.Errorf(instancehub.EUNAVAILABLE, "Jupyter for %s did not start: %s", srv.name, err)
			return
		}
		err = waitAnswer(srv.client(), base, srv.secret, proc, deadline)
		if err == nil {
			srv.base = base
			return
		}
		proc.stop()
		if attempt < 3 && cfg.Unsafe && errors.Is(err, errExited) && strings.Contains(proc.output(), "already in use") {
			continue
		}
		cfg.Logger.Warn("jupyter did not start", "instance", srv.name, "err", err, "output", proc.output())
		srv.readyErr = instancehub.Errorf(instancehub.EUNAVAILABLE, "Jupyter for %s did not start: %s", srv.name, err)
		return
	}
}

// client is an HTTP client that reaches srv.
func (srv *server) client() *http.Client {
	transport := &http.Transport{DisableKeepAlives: true}
	if srv.host != "" {
		transport.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) { return srv.dial(ctx) }
	}
	return &http.Client{Timeout: 2 * time.Second, Transport: transport}
}

// run starts one attempt, unless the server was stopped meanwhile.
func (srv *server) run(cmd *exec.Cmd, p *pipes) (*process, error) {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.stopped {
		if p != nil {
			p.close()
		}
		return nil, instancehub.Errorf(instancehub.EUNAVAILABLE, "Jupyter for %s was stopped while it started.", srv.name)
	}
	proc, err := startProcess(cmd, srv.secret, 0, p)
	if err != nil {
		return nil, fmt.Errorf("start jupyter for %s: %w", srv.name, err)
	}
	srv.proc = proc
	return proc, nil
}

// freePort asks the kernel for a port nobody listens on. Another program
// may take it before Jupyter binds it: launch then tries again.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitAnswer polls /api/status with the token until Jupyter answers, it
// exits, or the deadline passes.
func waitAnswer(client *http.Client, base *url.URL, secret string, proc *process, deadline time.Time) error {
	status := base.JoinPath("api", "status").String()
	for {
		req, _ := http.NewRequest(http.MethodGet, status, nil)
		req.Header.Set("Authorization", "token "+secret)
		if res, err := client.Do(req); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-proc.done:
			return errExited
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no answer from %s within the start timeout", base.Host)
		}
	}
}

// waitReady waits until the server answers, or ctx ends.
func (srv *server) waitReady(ctx context.Context) error {
	select {
	case <-srv.ready:
		return srv.readyErr
	case <-ctx.Done():
		return instancehub.Errorf(instancehub.EUNAVAILABLE, "Jupyter for %s is still starting; try again in a moment.", srv.name)
	}
}

// serves reports whether srv was started for inst, and not for an earlier
// instance of the same name, deleted since.
func (srv *server) serves(inst *instancehub.Instance) bool {
	return srv.secret == inst.AppSecret && srv.ownerID == inst.OwnerID
}

// exited reports whether the server ended or failed to start: the next
// Upstream starts another.
func (srv *server) exited() bool {
	select {
	case <-srv.ready:
		if srv.readyErr != nil {
			return true
		}
	default:
		return false
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return srv.proc == nil || srv.proc.exited()
}

// stop ends the server and waits for it, keeps it from starting again, and
// lets go of what it alone used: its socket's folder, and unsandboxed its
// configuration, token included. The home stays, for the next start.
func (srv *server) stop() {
	srv.mu.Lock()
	srv.stopped = true
	proc := srv.proc
	srv.mu.Unlock()
	if proc != nil {
		proc.stop()
	}
	<-srv.ready // launch is done with the folders
	srv.dirMu.Lock()
	if srv.runDir != nil {
		srv.runDir.Close()
		srv.runDir = nil
	}
	srv.dirMu.Unlock()
	if srv.config != "" {
		_ = os.RemoveAll(srv.config)
	}
}

// currentUser is the portal's user's name, for an unsandboxed server's
// environment.
func currentUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return strconv.Itoa(os.Getuid())
}

func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
