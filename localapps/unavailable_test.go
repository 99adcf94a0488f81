package localapps

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/instancehub/instancehub"
)

func TestApplicationsThatCannotRunOfflineSayWhy(t *testing.T) {
	s := newServers(t, "jupyter", "", 0)
	stopped := running("stopped1", 1)
	stopped.State = instancehub.StateStopped
	noSecret := running("nosecret1", 1)
	noSecret.AppSecret = ""
	for _, tc := range []struct {
		name string
		inst *instancehub.Instance
		app  instancehub.Application
		code string
		says string
	}{
		{"jupyterlab", running("vm1", 1), instancehub.Application{Slug: "jupyterlab", Label: "JupyterLab"}, instancehub.EUNAVAILABLE, "not packaged by Debian"},
		{"rstudio", running("vm1", 1), instancehub.Application{Slug: "rstudio", Label: "RStudio"}, instancehub.EUNAVAILABLE, "not packaged by Debian"},
		{"unknown application", running("vm1", 1), instancehub.Application{Slug: "vscode", Label: "VS Code"}, instancehub.ENOTFOUND, "does not offer VS Code"},
		{"stopped instance", stopped, jupyterApp, instancehub.ECONFLICT, "not running"},
		{"no secret: Jupyter would run without a token", noSecret, jupyterApp, instancehub.EUNAVAILABLE, "no application secret"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := s.Upstream(context.Background(), tc.inst, tc.app)
			if instancehub.ErrorCode(err) != tc.code || !strings.Contains(instancehub.ErrorMessage(err), tc.says) {
				t.Fatalf("got %v, want %s saying %q", err, tc.code, tc.says)
			}
		})
	}
	for _, slug := range []string{"jupyterlab", "rstudio"} {
		if reason := s.ApplicationUnavailable(context.Background(), running("vm1", 1), slug); !strings.Contains(reason, "not packaged by Debian") {
			t.Fatalf("ApplicationUnavailable(%s) = %q, want the reason", slug, reason)
		}
	}
	if len(s.Running()) != 0 {
		t.Fatalf("servers started: %v", s.Running())
	}
}

func TestNoJupyterInstalledIsUnavailableWithTheReason(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "jupyter")
	s := newServers(t, missing, "", 0)
	for _, app := range []instancehub.Application{jupyterApp, terminalApp} {
		_, _, err := s.Upstream(context.Background(), running("vm1", 1), app)
		if instancehub.ErrorCode(err) != instancehub.EUNAVAILABLE || !strings.Contains(instancehub.ErrorMessage(err), "Jupyter is not installed") {
			t.Fatalf("%s: got %v, want EUNAVAILABLE saying Jupyter is not installed", app.Slug, err)
		}
		if reason := s.ApplicationUnavailable(context.Background(), running("vm1", 1), app.Slug); !strings.Contains(reason, "jupyter-notebook") {
			t.Fatalf("ApplicationUnavailable(%s) = %q, want what to install", app.Slug, reason)
		}
	}
}

func TestAJupyterThatFailsToStartIsUnavailableWithoutItsSecret(t *testing.T) {
	broken := filepath.Join(t.TempDir(), "jupyter")
	script := "#!/bin/sh\necho \"token in $JUPYTER_CONFIG_DIR\" >&2\nexit 1\n"
	if err := os.WriteFile(broken, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, cfg := range map[string]Config{
		"in a sandbox": {Jupyter: "/usr/bin/false"},
		"unsandboxed":  {Jupyter: broken, Unsafe: true},
	} {
		t.Run(name, func(t *testing.T) {
			s := newServersWith(t, cfg)
			inst := running("vm1", 1)
			_, _, err := s.Upstream(context.Background(), inst, jupyterApp)
			if instancehub.ErrorCode(err) != instancehub.EUNAVAILABLE || !strings.Contains(instancehub.ErrorMessage(err), "did not start") {
				t.Fatalf("got %v, want EUNAVAILABLE saying Jupyter did not start", err)
			}
			if strings.Contains(err.Error(), inst.AppSecret) {
				t.Fatal("the error carries the secret")
			}
		})
	}
}

// TestWithoutBubblewrapJupyterIsOffWithTheReason: where no sandbox can be
// made, the offline Jupyter and Terminal are off, with the reason, and
// nothing runs unsandboxed unless asked.
func TestWithoutBubblewrapJupyterIsOffWithTheReason(t *testing.T) {
	s := newServersWith(t, Config{Jupyter: realJupyter(t), Bwrap: filepath.Join(t.TempDir(), "bwrap")})
	for _, app := range []instancehub.Application{jupyterApp, terminalApp} {
		_, _, err := s.Upstream(context.Background(), running("vm1", 1), app)
		if instancehub.ErrorCode(err) != instancehub.EUNAVAILABLE || !strings.Contains(instancehub.ErrorMessage(err), "bubblewrap") {
			t.Fatalf("%s: got %v, want EUNAVAILABLE saying bubblewrap is missing", app.Slug, err)
		}
		reason := s.ApplicationUnavailable(context.Background(), running("vm1", 1), app.Slug)
		if !strings.Contains(reason, "is not installed") || !strings.Contains(reason, "--unsafe-local-apps") {
			t.Fatalf("ApplicationUnavailable(%s) = %q, want the reason and the ways out", app.Slug, reason)
		}
	}
	if len(s.Running()) != 0 {
		t.Fatalf("servers started: %v", s.Running())
	}
	if s.Check() == "" {
		t.Fatal("Check says a sandbox can be made")
	}
}

// TestJupyterOutsideUsrIsOff: the sandbox sees the machine's /usr alone, so
// a Jupyter elsewhere (a virtual environment, pyenv) cannot run there.
func TestJupyterOutsideUsrIsOff(t *testing.T) {
	elsewhere := filepath.Join(t.TempDir(), "jupyter")
	if err := os.WriteFile(elsewhere, []byte("#!/bin/sh\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	s := newServers(t, elsewhere, "", 0)
	_, _, err := s.Upstream(context.Background(), running("vm1", 1), jupyterApp)
	if instancehub.ErrorCode(err) != instancehub.EUNAVAILABLE || !strings.Contains(instancehub.ErrorMessage(err), "outside /usr") {
		t.Fatalf("got %v, want EUNAVAILABLE saying Jupyter is outside /usr", err)
	}
}

func TestTerminalWithoutXtermIsUnavailableWithTheReason(t *testing.T) {
	s := New(Config{Jupyter: "jupyter", DataDir: t.TempDir()})
	t.Cleanup(func() { _ = s.Close() })
	_, _, err := s.Upstream(context.Background(), running("vm1", 1), terminalApp)
	if instancehub.ErrorCode(err) != instancehub.EUNAVAILABLE || !strings.Contains(instancehub.ErrorMessage(err), "without xterm.js") {
		t.Fatalf("got %v, want EUNAVAILABLE saying the portal was built without xterm.js", err)
	}
	if reason := s.ApplicationUnavailable(context.Background(), running("vm1", 1), "terminal"); !strings.Contains(reason, "run make") {
		t.Fatalf("ApplicationUnavailable(terminal) = %q, want what to do", reason)
	}
	if len(s.Running()) != 0 {
		t.Fatalf("servers started: %v", s.Running())
	}
}

// TestUnsafeLocalAppsRunJupyterAsThePortalsUser: with Config.Unsafe,
// Jupyter runs as earlier versions ran it, without a sandbox, on a
// loopback port, and Owners are warned.
func TestUnsafeLocalAppsRunJupyterAsThePortalsUser(t *testing.T) {
	s := newServersWith(t, Config{Jupyter: realJupyter(t), Unsafe: true, Bwrap: filepath.Join(t.TempDir(), "bwrap")})
	if reason := s.Check(); reason != "" {
		t.Fatalf("Check = %q: nothing to check without a sandbox", reason)
	}
	if w := s.ApplicationWarning(); !strings.Contains(w, "--unsafe-local-apps") {
		t.Fatalf("ApplicationWarning = %q, want the warning", w)
	}
	inst := running("vm1", 1)
	base := open(t, s, inst, jupyterApp)
	if base.Hostname() != "127.0.0.1" {
		t.Fatalf("base %s, want a loopback port", base)
	}
	if code, body := call(t, s, base, inst.AppSecret, "GET", "api/status", ""); code != 200 {
		t.Fatalf("status: %d %s", code, body)
	}
	s.Stop(inst.Name)
	if answers(base, inst.AppSecret) {
		t.Fatalf("%s still answers after Stop", base.Host)
	}
	if sandboxed := newServers(t, "jupyter", "", 0); sandboxed.ApplicationWarning() != "" {
		t.Fatal("sandboxed servers warn")
	}
}

// Jupyter installed while the portal runs is offered at the next view, and
// once found it is not looked for again: gone afterwards, its start fails
// with its own reason.
func TestJupyterInstalledLaterIsOfferedAtTheNextView(t *testing.T) {
	jupyter := filepath.Join(t.TempDir(), "jupyter")
	s := newServersWith(t, Config{Jupyter: jupyter, Unsafe: true})
	if reason := s.ApplicationUnavailable(context.Background(), running("vm1", 1), "jupyter"); !strings.Contains(reason, "Jupyter is not installed") {
		t.Fatalf("before it is installed: %q, want Jupyter is not installed", reason)
	}
	if err := os.WriteFile(jupyter, []byte("#!/bin/sh\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, slug := range []string{"jupyter", "terminal"} {
		if reason := s.ApplicationUnavailable(context.Background(), running("vm1", 1), slug); reason != "" {
			t.Fatalf("%s once installed: %q, want it offered", slug, reason)
		}
	}
	if err := os.Remove(jupyter); err != nil {
		t.Fatal(err)
	}
	if reason := s.ApplicationUnavailable(context.Background(), running("vm1", 1), "jupyter"); reason != "" {
		t.Fatalf("found once, then gone: %q, want it still offered (its start says why it fails)", reason)
	}
	_, _, err := s.Upstream(context.Background(), running("vm1", 1), jupyterApp)
	if instancehub.ErrorCode(err) != instancehub.EUNAVAILABLE {
		t.Fatalf("a start of a Jupyter gone: %v, want EUNAVAILABLE", err)
	}
}
