//go:build linux

package localapps

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/coder/websocket"
)

// kernelOf starts a Python kernel on inst's server and returns its
// channels.
func kernelOf(t *testing.T, s *Servers, inst string, secret string) *websocket.Conn {
	t.Helper()
	return kernelNamed(t, s, inst, secret, "python3")
}

// kernelNamed starts the kernel of a kernel spec on inst's server and
// returns its channels.
func kernelNamed(t *testing.T, s *Servers, inst, secret, spec string) *websocket.Conn {
	t.Helper()
	s.mu.Lock()
	srv := s.servers[inst]
	s.mu.Unlock()
	code, body := call(t, s, srv.base, secret, http.MethodPost, "api/kernels", fmt.Sprintf(`{"name":%q}`, spec))
	var kernel struct{ ID string }
	decode(t, body, &kernel)
	if code != http.StatusCreated {
		t.Fatalf("start kernel: %d %s", code, body)
	}
	return dial(t, s, srv.base, secret, "api/kernels/"+kernel.ID+"/channels")
}

// TestTheSandboxIsAzureuserWithAFreshEnvironment: the kernel runs as
// azureuser in /home/azureuser, with six environment variables of its own
// (and what Jupyter adds for its kernels), none of the portal's; the
// files it writes are its user's alone, outside as inside.
func TestTheSandboxIsAzureuserWithAFreshEnvironment(t *testing.T) {
	t.Setenv("INSTANCEHUB_ADMIN_PASSWORD", "the portal's secret")
	dataDir := t.TempDir()
	s := newServers(t, realJupyter(t), dataDir, 0)
	inst := running("vm1", 3)
	open(t, s, inst, jupyterApp)
	ws := kernelOf(t, s, inst.Name, inst.AppSecret)

	out := execute(t, ws, `import os, pwd, json
open("made-here.txt", "w").write("x")
print(json.dumps({"user": pwd.getpwuid(os.getuid()).pw_name, "cwd": os.getcwd(), "env": sorted(os.environ),
    "home": os.path.realpath(os.path.expanduser("~/cloudfiles/code"))}))`)
	var got struct {
		User, Cwd, Home string
		Env             []string
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("kernel printed %q: %v", out, err)
	}
	if got.User != "azureuser" || got.Cwd != "/home/azureuser" || got.Home != "/mnt/cloudfiles/code" {
		t.Errorf("kernel runs as %s in %s with ~/cloudfiles/code at %s; want azureuser, /home/azureuser, /mnt/cloudfiles/code", got.User, got.Cwd, got.Home)
	}
	// Jupyter adds these for its kernels, and bwrap the working directory,
	// as a shell does; everything else is the sandbox's.
	jupyters := []string{"CLICOLOR", "FORCE_COLOR", "GIT_PAGER", "JPY_PARENT_PID", "JPY_SESSION_NAME", "MPLBACKEND", "PAGER", "PYDEVD_USE_FRAME_EVAL", "PWD"}
	for _, name := range got.Env {
		if !slices.Contains([]string{"HOME", "LANG", "PATH", "SHELL", "TERM", "USER"}, name) && !slices.Contains(jupyters, name) {
			t.Errorf("the kernel's environment has %s", name)
		}
	}

	// Outside, the home and what the kernel wrote are the sandbox user's,
	// 0700: under a root portal an owner's own uid of the range.
	f := instanceFolders(dataDir, inst)
	want := uint32(os.Getuid())
	if os.Geteuid() == 0 {
		want = DefaultUIDs.First + 3
	}
	for _, path := range []string{f.home, f.code, filepath.Join(f.home, "made-here.txt")} {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if uid := st.Sys().(*syscall.Stat_t).Uid; uid != want {
			t.Errorf("%s belongs to uid %d, want %d", path, uid, want)
		}
		if st.IsDir() && st.Mode().Perm() != 0o700 {
			t.Errorf("%s is %v, want 0700", path, st.Mode().Perm())
		}
	}
	for _, dir := range []string{filepath.Join(dataDir, "sandboxes"), f.sandbox, filepath.Join(dataDir, "notebooks")} {
		st, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		if uid := st.Sys().(*syscall.Stat_t).Uid; uid != uint32(os.Getuid()) || st.Mode().Perm() != 0o700 {
			t.Errorf("%s: uid %d, %v; want the portal's, 0700", dir, uid, st.Mode().Perm())
		}
	}
}

// TestTheSandboxsLimits: a process of the sandbox cannot take more memory
// than its limit (the kernel's allocation fails, the kernel lives on), nor
// start threads without bound, nor fill /tmp past its size.
func TestTheSandboxsLimits(t *testing.T) {
	s := newServersWith(t, Config{Jupyter: realJupyter(t), MemoryMax: 384 << 20, Processes: 64})
	inst := running("vm1", 1)
	inst.MemoryGiB = 14 // a Standard_DS3_v2: the portal's cap is lower
	open(t, s, inst, jupyterApp)
	ws := kernelOf(t, s, inst.Name, inst.AppSecret)
	t.Cleanup(func() {
		if t.Failed() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if srv := s.servers[inst.Name]; srv != nil {
				t.Logf("Jupyter's output:\n%s", srv.proc.output())
			}
		}
	})

	out := execute(t, ws, `try:
    hog = bytearray(512 * 1024 * 1024)
    print("allocated")
except MemoryError:
    print("refused")
print(len(bytearray(64 * 1024 * 1024)))`)
	if out != "refused\n67108864\n" {
		t.Errorf("allocating over the limit: %q, want it refused and the kernel alive", out)
	}
	out = execute(t, ws, `import threading, time
started = []
try:
    for i in range(1000):
        th = threading.Thread(target=time.sleep, args=(5,), daemon=True)
        th.start()
        started.append(th)
except RuntimeError:
    pass
print(len(started) < 64)`)
	if out != "True\n" {
		t.Errorf("threads without bound: %q, want fewer than the limit started", out)
	}
	out = execute(t, ws, `import os
try:
    with open("/tmp/big", "wb") as f:
        for i in range(512):
            f.write(b"x" * (1 << 20))
    print("filled")
except OSError as e:
    print(e.strerror)
os.remove("/tmp/big")`)
	if !strings.Contains(out, "No space left on device") {
		t.Errorf("filling /tmp past its size: %q, want no space left", out)
	}
}

// TestALinkInTheSocketsPlaceLeadsNowhere: the socket's folder is the
// sandbox user's, who may move Jupyter's socket aside and put a link in its
// place. The gateway, connecting by path as the portal (root, often), would
// follow that link to any socket of the machine, and carry the owner's
// requests there: a container engine's socket would answer them as root.
// The link is not followed: the next request fails, and the socket it names
// sees no connection.
func TestALinkInTheSocketsPlaceLeadsNowhere(t *testing.T) {
	trap := filepath.Join(t.TempDir(), "trap.sock")
	listener, err := net.Listen("unix", trap)
	if err != nil {
		t.Fatal(err)
	}
	reached := make(chan struct{}, 1)
	go func() {
		for {
			c, err := listener.Accept()
			if err != nil {
				return
			}
			reached <- struct{}{}
			c.Close()
		}
	}()
	t.Cleanup(func() { listener.Close() })
	if err := os.Chmod(filepath.Dir(trap), 0o755); err != nil {
		t.Fatal(err)
	}

	s := newServers(t, realJupyter(t), t.TempDir(), 0)
	inst := running("vm1", 3)
	base := open(t, s, inst, jupyterApp)
	ws := kernelOf(t, s, inst.Name, inst.AppSecret)
	out := execute(t, ws, fmt.Sprintf(`import os
os.rename(%[1]q, %[1]q + ".moved")
os.symlink(%[2]q, %[1]q)
print(os.readlink(%[1]q))`, sandboxSocket, trap))
	if strings.TrimSpace(out) != trap {
		t.Fatalf("the kernel put no link in the socket's place: %q", out)
	}

	req, err := http.NewRequest(http.MethodGet, base.JoinPath("api/status").String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "token "+inst.AppSecret)
	res, err := client(s).Do(req)
	if err == nil {
		res.Body.Close()
		t.Errorf("a request through the link got %d, want no connection", res.StatusCode)
	}
	select {
	case <-reached:
		t.Error("the gateway followed the sandbox's link to a socket outside it")
	default:
	}
}

// TestAnRNotebookPrints42: the sandbox's Jupyter offers R (Debian's
// r-cran-irkernel, which make installs with Jupyter), and an R cell runs in
// the sandbox: R's own files under /usr and its configuration from /etc/R,
// which the sandbox shows read-only.
func TestAnRNotebookPrints42(t *testing.T) {
	s := newServers(t, realJupyter(t), t.TempDir(), 0)
	inst := running("vm1", 3)
	open(t, s, inst, jupyterApp)
	s.mu.Lock()
	srv := s.servers[inst.Name]
	s.mu.Unlock()
	code, body := call(t, s, srv.base, inst.AppSecret, http.MethodGet, "api/kernelspecs", "")
	var specs struct {
		Kernelspecs map[string]struct {
			Spec struct {
				DisplayName string `json:"display_name"`
				Language    string
			}
		}
	}
	decode(t, body, &specs)
	if code != http.StatusOK || specs.Kernelspecs["ir"].Spec.Language != "R" {
		t.Fatalf("the sandbox's Jupyter offers no R kernel (run make jupyter, which installs r-cran-irkernel): %d %s", code, body)
	}
	ws := kernelNamed(t, s, inst.Name, inst.AppSecret, "ir")
	if out := execute(t, ws, "cat(6*7)"); out != "42" {
		t.Errorf("cat(6*7) printed %q", out)
	}
	if out := execute(t, ws, `cat(Sys.getenv("USER"), getwd())`); out != "azureuser /home/azureuser" {
		t.Errorf("R runs as %q", out)
	}
	if reason := s.ApplicationUnavailable(t.Context(), inst, "rstudio"); !strings.Contains(reason, "R is in Jupyter instead") {
		t.Errorf("RStudio's reason: %q", reason)
	}
}
