package localapps

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/instancehub/instancehub"
)

// server is one Jupyter Notebook server, for one instance.
type server struct {
	name      string
	ownerID   int64
	secret    string
	config    string    // its own JUPYTER_CONFIG_DIR, token inside
	notebooks string    // the owner's folder, where it starts
	lastUsed  time.Time // guarded by Servers.mu

	ready    chan struct{} // closed once base answers or the start failed
	base     *url.URL      // set before ready closes
	readyErr error         // set before ready closes

	mu      sync.Mutex
	proc    *process // the current attempt's
	stopped bool
}

// start launches inst's server and returns at once; waitReady waits for it.
func start(cfg Config, inst *instancehub.Instance) (*server, error) {
	jupyter, err := exec.LookPath(cfg.Jupyter)
	if err != nil {
		return nil, instancehub.Errorf(instancehub.EUNAVAILABLE, "%s", notInstalled(cfg.Jupyter))
	}
	notebooks := filepath.Join(cfg.DataDir, "notebooks", strconv.FormatInt(inst.OwnerID, 10))
	config, err := prepareDirs(cfg.DataDir, notebooks, inst, cfg.Terminal)
	if err != nil {
		return nil, fmt.Errorf("prepare jupyter for %s: %w", inst.Name, err)
	}
	srv := &server{name: inst.Name, ownerID: inst.OwnerID, secret: inst.AppSecret, config: config, notebooks: notebooks,
		lastUsed: time.Now(), ready: make(chan struct{})}
	go srv.launch(cfg, jupyter, notebooks)
	return srv, nil
}

// prepareDirs makes the owner's notebook folder and a configuration folder
// of the server's own, which holds its token, and returns the latter. The
// token goes in a file readable by the portal's user alone rather than on
// the command line, where every user of the machine could read it, or in
// the environment, which kernels and terminals inherit. The folder also
// keeps the developer's own ~/.jupyter settings (a password, another base
// URL) out. It is the server's alone, so that the folder of a server being
// stopped is not the one a new server of the same instance reads.
func prepareDirs(dataDir, notebooks string, inst *instancehub.Instance, terminal fs.FS) (string, error) {
	if err := os.MkdirAll(notebooks, 0o700); err != nil {
		return "", err
	}
	parent := filepath.Join(dataDir, "jupyter")
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return "", err
	}
	config, err := os.MkdirTemp(parent, inst.Name+"-")
	if err != nil {
		return "", err
	}
	secret, err := json.Marshal("token " + inst.AppSecret) // a valid Python string literal
	if err != nil {
		return "", err
	}
	settings := strings.Replace(loginConfig, "@SECRET@", string(secret), 1)
	if terminal != nil {
		static := filepath.Join(config, "static")
		if err := writeTerminalPage(static, terminal); err != nil {
			return "", err
		}
		dir, _ := json.Marshal(static)
		settings += "c.NotebookApp.extra_static_paths = [" + string(dir) + "]\n"
	}
	return config, os.WriteFile(filepath.Join(config, "jupyter_notebook_config.py"), []byte(settings), 0o600)
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

// writeTerminalPage lays out the replacement of the terminal page's script
// and the xterm.js files it loads under static.
func writeTerminalPage(static string, terminal fs.FS) error {
	files := map[string][]byte{filepath.Join("terminal", "js", "main.min.js"): []byte(terminalPage)}
	for _, name := range []string{"xterm.js", "fit.js"} {
		b, err := fs.ReadFile(terminal, name)
		if err != nil {
			return fmt.Errorf("xterm.js for the terminal: %w", err)
		}
		files[filepath.Join("components", "instancehub-xterm", name)] = b
	}
	for name, b := range files {
		path := filepath.Join(static, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return err
		}
		if err := os.WriteFile(path, b, 0o600); err != nil {
			return err
		}
	}
	return nil
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

// launch starts Jupyter on a free port and waits until it answers. A port
// another program took between choosing and binding it is retried with
// another.
func (srv *server) launch(cfg Config, jupyter, notebooks string) {
	defer close(srv.ready)
	deadline := time.Now().Add(cfg.StartTimeout)
	for attempt := 1; ; attempt++ {
		port, err := freePort()
		if err != nil {
			srv.readyErr = fmt.Errorf("jupyter for %s: %w", srv.name, err)
			return
		}
		base := &url.URL{Scheme: "http", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), Path: "/"}
		proc, err := srv.run(jupyter, notebookArgs(port, notebooks))
		if err != nil {
			srv.readyErr = err
			return
		}
		err = waitAnswer(base, srv.secret, proc, deadline)
		if err == nil {
			srv.base = base
			return
		}
		proc.stop()
		if attempt < 3 && errors.Is(err, errExited) && strings.Contains(proc.output(), "already in use") {
			continue
		}
		cfg.Logger.Warn("jupyter did not start", "instance", srv.name, "err", err, "output", proc.output())
		srv.readyErr = instancehub.Errorf(instancehub.EUNAVAILABLE, "Jupyter for %s did not start: %s", srv.name, err)
		return
	}
}

// notebookArgs runs the server on the loopback address only, at the root
// path, which the gateway maps each application origin onto. Jupyter's
// allow_origin stays unset: Jupyter 6.4 skips its Origin and XSRF checks on
// every request that carries the token, which the gateway adds to each, so
// the gateway alone refuses foreign origins and cross-origin writes; it
// sends Jupyter's own origin, which passes should a later Jupyter check.
func notebookArgs(port int, notebooks string) []string {
	args := []string{"notebook", "--no-browser", "--ip=127.0.0.1", "--port=" + strconv.Itoa(port),
		"--NotebookApp.port_retries=0", "--NotebookApp.base_url=/", "--notebook-dir=" + notebooks}
	if os.Geteuid() == 0 {
		args = append(args, "--allow-root") // containers and CI run as root
	}
	return args
}

// run starts one attempt, unless the server was stopped meanwhile.
func (srv *server) run(jupyter string, args []string) (*process, error) {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.stopped {
		return nil, instancehub.Errorf(instancehub.EUNAVAILABLE, "Jupyter for %s was stopped while it started.", srv.name)
	}
	cmd := exec.Command(jupyter, args...)
	// Terminals open where the process runs: in the owner's folder, as
	// kernels do, not wherever the portal was started.
	cmd.Dir = srv.notebooks
	cmd.Env = append(os.Environ(), "JUPYTER_CONFIG_DIR="+srv.config, "JUPYTER_RUNTIME_DIR="+filepath.Join(srv.config, "runtime"))
	proc, err := startProcess(cmd, srv.secret)
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
func waitAnswer(base *url.URL, secret string, proc *process, deadline time.Time) error {
	client := &http.Client{Timeout: 2 * time.Second}
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
// removes its configuration, token included.
func (srv *server) stop() {
	srv.mu.Lock()
	srv.stopped = true
	proc := srv.proc
	srv.mu.Unlock()
	if proc != nil {
		proc.stop()
	}
	<-srv.ready // launch is done with the folder
	_ = os.RemoveAll(srv.config)
}
