//go:build linux

package localapps

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
)

func TestStopEndsTheSandboxAndStartKeepsItsHome(t *testing.T) {
	jupyter := realJupyter(t)
	dataDir := t.TempDir()
	s := newServers(t, jupyter, dataDir, 0)
	inst := running("vm1", 1)
	base := open(t, s, inst, jupyterApp)
	if code, body := call(t, s, base, inst.AppSecret, http.MethodPost, "api/kernels", `{"name":"python3"}`); code != http.StatusCreated {
		t.Fatalf("start kernel: %d %s", code, body)
	}
	if code, body := call(t, s, base, inst.AppSecret, http.MethodPost, "api/terminals", ""); code != http.StatusOK {
		t.Fatalf("open a terminal: %d %s", code, body)
	}
	if code, body := call(t, s, base, inst.AppSecret, http.MethodPut, "api/contents/kept.txt", `{"type":"file","format":"text","content":"kept"}`); code != http.StatusCreated {
		t.Fatalf("save file: %d %s", code, body)
	}
	ns := sandboxNamespace(t, s, inst.Name)
	// bwrap's first process, Jupyter, the kernel, the terminal's shell.
	if n := len(processesIn(ns)); n < 4 {
		t.Fatalf("%d processes in the sandbox, want at least 4", n)
	}

	s.Stop(inst.Name)
	if left := processesIn(ns); len(left) != 0 {
		t.Fatalf("processes of the sandbox left after Stop: %v", left)
	}
	if len(s.Running()) != 0 {
		t.Fatalf("running after Stop: %v", s.Running())
	}

	// Start again: another sandbox, the same home, though the Start gave
	// the instance a new secret, as the engine's every Start does.
	inst.AppSecret = newSecret()
	again := open(t, s, inst, jupyterApp)
	if again.Host == base.Host {
		t.Fatalf("the next open after Stop returned the stopped server's address %s", base.Host)
	}
	if code, body := call(t, s, again, inst.AppSecret, http.MethodGet, "api/contents/kept.txt", ""); code != http.StatusOK {
		t.Fatalf("the home's file after Stop and Start: %d %s", code, body)
	}

	// A portal restart: Close ends every sandbox, and the new portal's
	// first open brings the server back, with the instance's home. The
	// configuration folders an unsandboxed server left are swept.
	second := sandboxNamespace(t, s, inst.Name)
	_ = s.Close()
	if left := processesIn(second); len(left) != 0 {
		t.Fatalf("processes of the sandbox left after Close: %v", left)
	}
	stale := filepath.Join(dataDir, "jupyter", "vm1-left-by-a-crash")
	if err := os.MkdirAll(stale, 0o700); err != nil {
		t.Fatal(err)
	}
	restarted := newServers(t, jupyter, dataDir, 0)
	back := open(t, restarted, inst, jupyterApp)
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Fatalf("the folder a crashed portal's server left is still there (%v)", err)
	}
	if code, body := call(t, restarted, back, inst.AppSecret, http.MethodGet, "api/contents/kept.txt", ""); code != http.StatusOK {
		t.Fatalf("the file after a restart: %d %s", code, body)
	}
}

func TestACrashedSandboxStartsAgainOnTheNextOpen(t *testing.T) {
	s := newServers(t, realJupyter(t), "", 0)
	inst := running("vm1", 1)
	base := open(t, s, inst, jupyterApp)
	if err := syscall.Kill(sandboxInitPID(t, s, inst.Name), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for len(s.Running()) != 0 { // bwrap exits a moment after
		if time.Now().After(deadline) {
			t.Fatal("the killed sandbox is still counted as running")
		}
		time.Sleep(10 * time.Millisecond)
	}
	again := open(t, s, inst, jupyterApp)
	if again.Host == base.Host {
		t.Fatal("the crashed server was returned")
	}
	if code, _ := call(t, s, again, inst.AppSecret, http.MethodGet, "api/status", ""); code != http.StatusOK {
		t.Fatalf("after the crash: status %d", code)
	}
}

func TestStartingOneServerBeyondTheCapStopsTheLeastRecentlyUsed(t *testing.T) {
	s := newServers(t, realJupyter(t), "", 2)
	a, b, c := running("vma", 1), running("vmb", 1), running("vmc", 2)
	open(t, s, a, jupyterApp)
	open(t, s, b, jupyterApp)
	bNamespace := sandboxNamespace(t, s, b.Name)
	open(t, s, a, jupyterApp) // a is now used more recently than b
	open(t, s, c, jupyterApp)

	got := s.Running()
	slices.Sort(got)
	if !slices.Equal(got, []string{"vma", "vmc"}) {
		t.Fatalf("running %v, want vma and vmc (vmb was used least recently)", got)
	}
	deadline := time.Now().Add(15 * time.Second)
	for len(processesIn(bNamespace)) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("vmb's sandbox still has processes: %v", processesIn(bNamespace))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestCloudfilesAreTheOwnersAndTheHomeTheInstances: files in
// ~/cloudfiles/code are seen from the owner's other instance and not from
// another owner's; the home is the instance's own, and an instance deleted
// and made again under the same name starts with an empty one.
func TestCloudfilesAreTheOwnersAndTheHomeTheInstances(t *testing.T) {
	dataDir := t.TempDir()
	s := newServers(t, realJupyter(t), dataDir, 0)
	first, second, other := running("vm1", 7), running("vm2", 7), running("vm3", 8)
	base := open(t, s, first, jupyterApp)
	for path, content := range map[string]string{"cloudfiles/code/shared.txt": "hello", "mine.txt": "home"} {
		body := fmt.Sprintf(`{"type":"file","format":"text","content":%q}`, content)
		if code, page := call(t, s, base, first.AppSecret, http.MethodPut, "api/contents/"+path, body); code != http.StatusCreated {
			t.Fatalf("save %s: %d %s", path, code, page)
		}
	}
	secondBase := open(t, s, second, jupyterApp)
	if code, body := call(t, s, secondBase, second.AppSecret, http.MethodGet, "api/contents/cloudfiles/code/shared.txt", ""); code != http.StatusOK || !strings.Contains(body, "hello") {
		t.Fatalf("the owner's other instance: %d %s, want the shared file", code, body)
	}
	if code, _ := call(t, s, secondBase, second.AppSecret, http.MethodGet, "api/contents/mine.txt", ""); code != http.StatusNotFound {
		t.Fatalf("the other instance's home file from the owner's second instance: %d, want 404", code)
	}
	if code, _ := call(t, s, open(t, s, other, jupyterApp), other.AppSecret, http.MethodGet, "api/contents/cloudfiles/code/shared.txt", ""); code != http.StatusNotFound {
		t.Fatalf("another owner's instance: %d, want 404", code)
	}

	// vm1 deleted and created again under the same name: a new secret, a
	// new server, the owner's files, an empty home.
	recreated := running("vm1", 7)
	newBase := open(t, s, recreated, jupyterApp)
	if code, _ := call(t, s, newBase, recreated.AppSecret, http.MethodGet, "api/contents/cloudfiles/code/shared.txt", ""); code != http.StatusOK {
		t.Fatalf("the recreated instance: %d, want the owner's file", code)
	}
	if code, _ := call(t, s, newBase, recreated.AppSecret, http.MethodGet, "api/contents/mine.txt", ""); code != http.StatusNotFound {
		t.Fatalf("the recreated instance's home: %d, want the deleted instance's file gone (404)", code)
	}
	if code, _ := call(t, s, newBase, first.AppSecret, http.MethodGet, "api/status", ""); code != http.StatusForbidden {
		t.Fatalf("the deleted instance's secret on the new server: %d, want 403", code)
	}

	// Prune removes the deleted instance's home, and keeps the others'.
	current := func(_ context.Context, name string) (*instancehub.Instance, error) {
		for _, inst := range []*instancehub.Instance{recreated, second, other} {
			if inst.Name == name {
				return inst, nil
			}
		}
		return nil, instancehub.Errorf(instancehub.ENOTFOUND, "no %s", name)
	}
	if err := s.Prune(context.Background(), current); err != nil {
		t.Fatal(err)
	}
	for inst, want := range map[*instancehub.Instance]bool{first: false, recreated: true, second: true, other: true} {
		_, err := os.Stat(instanceFolders(dataDir, inst).home)
		if exists := err == nil; exists != want {
			t.Errorf("home of %s (secret %.4s…) exists: %v, want %v", inst.Name, inst.AppSecret, exists, want)
		}
	}
}

// sandboxInitPID is the first process of name's running sandbox.
func sandboxInitPID(t *testing.T, s *Servers, name string) int {
	t.Helper()
	return sandboxOf(t, s, name).pid
}

// sandboxNamespace is the PID namespace of name's running sandbox.
func sandboxNamespace(t *testing.T, s *Servers, name string) string {
	t.Helper()
	ns := sandboxOf(t, s, name).pidNamespace
	if !strings.HasPrefix(ns, "pid:[") {
		t.Fatalf("the sandbox of %s has no PID namespace: %q", name, ns)
	}
	return ns
}

func sandboxOf(t *testing.T, s *Servers, name string) *sandboxInit {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	srv := s.servers[name]
	if srv == nil {
		t.Fatalf("no server for %s", name)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.proc == nil || srv.proc.init == nil {
		t.Fatalf("the server of %s runs in no sandbox", name)
	}
	return srv.proc.init
}

// processesIn lists the processes of PID namespace ns, zombies aside.
func processesIn(ns string) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if link, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", pid)); err != nil || link != ns {
			continue
		}
		if stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil && !strings.Contains(string(stat), ") Z ") {
			pids = append(pids, pid)
		}
	}
	return pids
}

// TestAServerStoppedToMakeRoomIsToldOnce: the server stopped to start
// another beyond the cap is Evicted, with the cap, until its instance opens
// it again; an instance made since under the same name, and one its owner
// stopped, are not.
func TestAServerStoppedToMakeRoomIsToldOnce(t *testing.T) {
	s := newServers(t, realJupyter(t), "", 1)
	a, b := running("vma", 1), running("vmb", 1)
	open(t, s, a, jupyterApp)
	if _, evicted := s.Evicted(a); evicted {
		t.Fatal("a's running server is evicted")
	}
	open(t, s, b, jupyterApp) // a is stopped to make room
	if most, evicted := s.Evicted(a); !evicted || most != 1 {
		t.Fatalf("a: Evicted = %d, %v; want 1, true", most, evicted)
	}
	if _, evicted := s.Evicted(running("vma", 1)); evicted {
		t.Error("another instance named vma (another secret) is told of a's server")
	}
	if _, evicted := s.Evicted(b); evicted {
		t.Error("b's running server is evicted")
	}
	open(t, s, a, jupyterApp) // a's next open starts it again, and b's goes
	if _, evicted := s.Evicted(a); evicted {
		t.Error("a is still evicted once opened again")
	}
	if _, evicted := s.Evicted(b); !evicted {
		t.Error("b was stopped to make room, and is not evicted")
	}
	s.Stop(b.Name) // its owner stopped the instance: nothing to tell
	if _, evicted := s.Evicted(b); evicted {
		t.Error("b is evicted after its instance stopped")
	}
}

// TestAHomeNamedByAnEarlierPortalIsKept: a portal before the sandbox
// folder took the instance's ID named it after a digest of the secret; the
// first open of that instance by this portal moves the folder, home and
// all, and Prune keeps it meanwhile.
func TestAHomeNamedByAnEarlierPortalIsKept(t *testing.T) {
	jupyter := realJupyter(t)
	dataDir := t.TempDir()
	inst := running("old-box", 1)
	legacy := filepath.Join(dataDir, "sandboxes", legacySandboxKey(inst))
	if err := os.MkdirAll(filepath.Join(legacy, "home"), 0o700); err != nil {
		t.Fatal(err)
	}
	// Readable by all: the test, as the portal's user, cannot make the
	// file the sandbox user's, as the earlier portal's sandbox did.
	if err := os.WriteFile(filepath.Join(legacy, "home", "kept.txt"), []byte("kept"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := newServers(t, jupyter, dataDir, 0)
	current := func(context.Context, string) (*instancehub.Instance, error) { return inst, nil }
	if err := s.Prune(context.Background(), current); err != nil {
		t.Fatal(err)
	}
	base := open(t, s, inst, jupyterApp)
	if code, body := call(t, s, base, inst.AppSecret, http.MethodGet, "api/contents/kept.txt", ""); code != http.StatusOK {
		t.Fatalf("the home an earlier portal named: %d %s", code, body)
	}
	if _, err := os.Stat(legacy); !os.IsNotExist(err) {
		t.Errorf("the folder under its old name is still there (%v)", err)
	}
}
