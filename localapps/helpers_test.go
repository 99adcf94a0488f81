package localapps

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/static"
)

var (
	jupyterApp  = instancehub.Application{Slug: "jupyter", Label: "Jupyter"}
	terminalApp = instancehub.Application{Slug: "terminal", Label: "Terminal"}
)

// realJupyter returns the jupyter command the tests run: the one
// INSTANCEHUB_JUPYTER names (make test sets it), else jupyter in PATH. A test
// that cannot find one fails, as a browser test without its browser does.
func realJupyter(t *testing.T) string {
	t.Helper()
	if path := os.Getenv("INSTANCEHUB_JUPYTER"); path != "" {
		if _, err := exec.LookPath(path); err != nil {
			t.Fatalf("INSTANCEHUB_JUPYTER=%s: %v (make test installs jupyter-notebook)", path, err)
		}
		return path
	}
	path, err := exec.LookPath("jupyter")
	if err != nil {
		t.Fatal("jupyter is not installed: run `make test`, which installs Debian's jupyter-notebook, python3-ipykernel and python3-terminado")
	}
	return path
}

// newServers returns Servers on a temporary data directory, closed when the
// test ends.
func newServers(t *testing.T, jupyter, dataDir string, max int) *Servers {
	t.Helper()
	return newServersWith(t, Config{Jupyter: jupyter, DataDir: dataDir, MaxServers: max})
}

// newServersWith is newServers with cfg, the terminal's xterm.js added and
// a temporary data directory unless cfg names one.
func newServersWith(t *testing.T, cfg Config) *Servers {
	t.Helper()
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	terminal, err := fs.Sub(static.FS, "vendor/xterm")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Terminal = terminal
	s := New(cfg)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// running returns a running instance of owner with a record of its own
// (a new ID) and a fresh secret.
func running(name string, owner int64) *instancehub.Instance {
	return &instancehub.Instance{ID: lastID.Add(1), Name: name, OwnerID: owner, State: instancehub.StateRunning, AppSecret: newSecret()}
}

var lastID atomic.Int64

// newSecret is an application secret, as each Start gives an instance.
func newSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// open calls Upstream and fails the test on an error.
func open(t *testing.T, s *Servers, inst *instancehub.Instance, app instancehub.Application) *url.URL {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base, secret, err := s.Upstream(ctx, inst, app)
	if err != nil {
		t.Fatalf("Upstream(%s, %s): %v", inst.Name, app.Slug, err)
	}
	if secret != inst.AppSecret {
		t.Fatalf("Upstream returned secret %q, want the instance's", secret)
	}
	return base
}

// client reaches the servers of s as the gateway does, through its dialer.
func client(s *Servers) *http.Client {
	return &http.Client{Timeout: time.Minute, Transport: &http.Transport{DialContext: s.DialContext}}
}

// call sends method path to Jupyter at base, with the token when secret is
// set, and returns the status and body.
func call(t *testing.T, s *Servers, base *url.URL, secret, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, base.JoinPath(path).String(), strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if secret != "" {
		req.Header.Set("Authorization", "token "+secret)
	}
	res, err := client(s).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// decode parses a JSON answer into v.
func decode(t *testing.T, body string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("decode %q: %v", body, err)
	}
}

// answers tells whether an unsandboxed server of the instance with that
// secret still answers at base. Another server that took the port since
// (other tests' and packages' Jupyters pick free ports too) has another
// secret and says 403: it is not that server.
func answers(base *url.URL, secret string) bool {
	req, err := http.NewRequest(http.MethodGet, base.JoinPath("api/status").String(), nil)
	if err != nil {
		return false
	}
	req.Header.Set("Authorization", "token "+secret)
	res, err := (&http.Client{Timeout: 2 * time.Second}).Do(req)
	if err != nil {
		return false
	}
	res.Body.Close()
	return res.StatusCode == http.StatusOK
}
