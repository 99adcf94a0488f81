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
	if dataDir == "" {
		dataDir = t.TempDir()
	}
	terminal, err := fs.Sub(static.FS, "vendor/xterm")
	if err != nil {
		t.Fatal(err)
	}
	s := New(Config{Jupyter: jupyter, DataDir: dataDir, MaxServers: max, Terminal: terminal})
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// running returns a running instance of owner with a fresh secret.
func running(name string, owner int64) *instancehub.Instance {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return &instancehub.Instance{Name: name, OwnerID: owner, State: instancehub.StateRunning, AppSecret: base64.RawURLEncoding.EncodeToString(b)}
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

// call sends method path to Jupyter at base, with the token when secret is
// set, and returns the status and body.
func call(t *testing.T, base *url.URL, secret, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, base.JoinPath(path).String(), strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if secret != "" {
		req.Header.Set("Authorization", "token "+secret)
	}
	res, err := http.DefaultClient.Do(req)
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
