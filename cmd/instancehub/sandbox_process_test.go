//go:build linux

package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

const ownerPassword = "the owner's long password"

// startOwner starts the program with args over a new data directory and
// signs its first Owner in.
func startOwner(t *testing.T, args ...string) (*process, *person, string) {
	t.Helper()
	t.Setenv("INSTANCEHUB_ADMIN_PASSWORD", ownerPassword)
	data := t.TempDir()
	p := startProcess(t, append([]string{"serve", "--addr", "127.0.0.1:0", "--data", data, "--admin-email", "owner@example.com",
		"--emulator-latency", "0", "--sync-interval", "1h"}, args...)...)
	owner := newPerson(t, p.url)
	owner.signIn("owner@example.com", ownerPassword)
	return p, owner, data
}

// TestWithoutBubblewrapApplicationsAreOffWithTheReason: where no sandbox
// can be made, the offline Jupyter and Terminal are off, with the reason
// in the log, on the details page and on the application's page, and no
// Jupyter runs.
func TestWithoutBubblewrapApplicationsAreOffWithTheReason(t *testing.T) {
	realJupyter(t)
	p, owner, _ := startOwner(t, "--bwrap", filepath.Join(t.TempDir(), "bwrap"))
	if log := p.logs.String(); !strings.Contains(log, "offline Jupyter and Terminal are off") || !strings.Contains(log, "bubblewrap") {
		t.Errorf("the log does not say why the applications are off:\n%s", log)
	}
	owner.create("no-box")
	_, page := owner.do("GET", p.url+"/instances/no-box", nil)
	if !strings.Contains(page, "is not installed on the portal&#39;s machine") || !strings.Contains(page, "--unsafe-local-apps") {
		t.Errorf("the details page does not say why Jupyter is off: %.3000s", page)
	}
	res, page := owner.do("GET", p.url+"/instances/no-box/apps/jupyter/", nil)
	if res.StatusCode != http.StatusOK || !strings.Contains(page, `data-testid="app-unavailable-reason"`) || !strings.Contains(page, "bubblewrap") {
		t.Errorf("opening Jupyter: %d %.2000s, want the page that says why", res.StatusCode, page)
	}
	if strings.Contains(page, "SSH tunnel") {
		t.Error("the page advises an SSH tunnel, which an emulated instance does not have")
	}
	if strings.Contains(p.logs.String(), "jupyter did not start") {
		t.Error("a Jupyter was started")
	}
}

// TestUnsafeLocalAppsWarn: with --unsafe-local-apps the log warns at start,
// the Settings page warns Owners, and what they warn of is true: a kernel
// opens the portal's database (the escape test's own attempt succeeds).
func TestUnsafeLocalAppsWarn(t *testing.T) {
	realJupyter(t)
	p, owner, data := startOwner(t, "--unsafe-local-apps")
	if log := p.logs.String(); !strings.Contains(log, "level=WARN msg=\"--unsafe-local-apps: the offline Jupyter") {
		t.Errorf("no warning at start:\n%s", log)
	}
	if _, page := owner.do("GET", p.url+"/settings", nil); !strings.Contains(page, `data-testid="applications-warning"`) || !strings.Contains(page, "--unsafe-local-apps") {
		t.Errorf("the Settings page does not warn: %.3000s", page)
	}
	owner.create("unsafe-box")
	origin := owner.openApp("unsafe-box", "jupyter")
	helpers := kernelEscapes[:strings.Index(kernelEscapes, `attempt("`)]
	out, errName := execute(t, owner.kernel(origin), "DATA = "+quotePython(data)+"\n"+helpers+
		`attempt("open the portal's database", lambda: open(DATA + "/instancehub.db", "rb").read(16))`)
	if !strings.HasPrefix(out, "ESCAPED open the portal's database") {
		t.Errorf("unsandboxed, the kernel printed %q (raised %q); want it to reach the database, as the warning says", out, errName)
	}

	// Without the flag, no warning.
	_, sandboxed, _ := startOwner(t)
	if _, page := sandboxed.do("GET", sandboxed.portal+"/settings", nil); strings.Contains(page, "applications-warning") {
		t.Error("the Settings page warns of a sandboxed portal")
	}
}

func quotePython(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }

// TestANotebookOverItsMemoryIsStoppedAlone: a notebook that takes memory
// until it can take no more stops at its sandbox's limit, far below the
// machine's, while the portal keeps answering.
func TestANotebookOverItsMemoryIsStoppedAlone(t *testing.T) {
	realJupyter(t)
	p, owner, _ := startOwner(t, "--sandbox-memory", "256MiB")
	owner.create("hog-box")
	origin := owner.openApp("hog-box", "jupyter")
	var answered, failed atomic.Int64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		client := &http.Client{Timeout: 2 * time.Second}
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			if res, err := client.Get(p.url + "/healthz"); err == nil && res.StatusCode == http.StatusOK {
				res.Body.Close()
				answered.Add(1)
			} else {
				failed.Add(1)
			}
		}
	}()
	out, errName := execute(t, owner.kernel(origin), `import time
held = []
try:
    while True:
        held.append(bytearray(16 << 20))
except MemoryError:
    pass
print(len(held) * 16 < 256)
time.sleep(2)
held.clear()
print("alive")`)
	close(stop)
	<-done
	if out != "True\nalive\n" || errName != "" {
		t.Errorf("the hog printed %q (raised %q), want it stopped under 256 MiB and alive", out, errName)
	}
	if failed.Load() != 0 || answered.Load() == 0 {
		t.Errorf("/healthz answered %d times and failed %d times while the notebook took memory", answered.Load(), failed.Load())
	}
}

// TestDataDirectoryIsPrivateWhateverTheUmask: started with umask 0 on a
// data directory an earlier version left readable, the portal makes it
// 0700 and its files 0600.
func TestDataDirectoryIsPrivateWhateverTheUmask(t *testing.T) {
	data := t.TempDir()
	if err := os.Chmod(data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(data, "instancehub.lock"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	old := syscall.Umask(0)
	startProcess(t, "serve", "--addr", "127.0.0.1:0", "--data", data, "--emulator-latency", "0", "--sync-interval", "1h")
	syscall.Umask(old)
	if st, err := os.Stat(data); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("the data directory: %v, %v; want 0700", st.Mode().Perm(), err)
	}
	entries, err := os.ReadDir(data)
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().IsRegular() {
			seen++
			if info.Mode().Perm() != 0o600 {
				t.Errorf("%s is %v, want 0600", e.Name(), info.Mode().Perm())
			}
		} else if info.IsDir() && info.Mode().Perm() != 0o700 {
			t.Errorf("%s/ is %v, want 0700", e.Name(), info.Mode().Perm())
		}
	}
	if seen < 4 { // the database and its WAL, the emulator's, the lock
		t.Errorf("only %d files in the data directory: %v", seen, entries)
	}
}
