//go:build unix

package localapps

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestStopEndsTheServerAndItsKernelsAndTheNextOpenStartsAnother(t *testing.T) {
	jupyter := realJupyter(t)
	dataDir := t.TempDir()
	s := newServers(t, jupyter, dataDir, 0)
	inst := running("vm1", 1)
	base := open(t, s, inst, jupyterApp)
	if code, body := call(t, base, inst.AppSecret, http.MethodPost, "api/kernels", `{"name":"python3"}`); code != http.StatusCreated {
		t.Fatalf("start kernel: %d %s", code, body)
	}
	if code, body := call(t, base, inst.AppSecret, http.MethodPut, "api/contents/kept.txt", `{"type":"file","format":"text","content":"kept"}`); code != http.StatusCreated {
		t.Fatalf("save file: %d %s", code, body)
	}
	pid := serverPID(t, s, inst.Name)
	kernels := kernelsOf(pid)
	if runtime.GOOS == "linux" && len(kernels) != 1 {
		t.Fatalf("kernels of server %d: %v, want one", pid, kernels)
	}

	s.Stop(inst.Name)
	if answers(base, inst.AppSecret) {
		t.Fatalf("%s still answers after Stop", base.Host)
	}
	for _, p := range append(kernels, pid) {
		waitGone(t, p)
	}
	if len(s.Running()) != 0 {
		t.Fatalf("running after Stop: %v", s.Running())
	}
	if left, _ := os.ReadDir(filepath.Join(dataDir, "jupyter")); len(left) != 0 {
		t.Fatalf("the stopped server's configuration, token included, is still there: %v", left)
	}

	again := open(t, s, inst, jupyterApp)
	if code, _ := call(t, again, inst.AppSecret, http.MethodGet, "api/status", ""); code != http.StatusOK {
		t.Fatalf("the next open after Stop: status %d", code)
	}

	// A portal restart: Close stops everything, and the new portal's first
	// open brings the server back, with the owner's files.
	_ = s.Close()
	if answers(again, inst.AppSecret) {
		t.Fatalf("%s still answers after Close", again.Host)
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
	if code, body := call(t, back, inst.AppSecret, http.MethodGet, "api/contents/kept.txt", ""); code != http.StatusOK {
		t.Fatalf("the file after a restart: %d %s", code, body)
	}
}

func TestACrashedServerStartsAgainOnTheNextOpen(t *testing.T) {
	s := newServers(t, realJupyter(t), "", 0)
	inst := running("vm1", 1)
	base := open(t, s, inst, jupyterApp)
	pid := serverPID(t, s, inst.Name)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitGone(t, pid)
	deadline := time.Now().Add(5 * time.Second)
	for len(s.Running()) != 0 { // the process is reaped a moment after
		if time.Now().After(deadline) {
			t.Fatal("the killed server is still counted as running")
		}
		time.Sleep(10 * time.Millisecond)
	}
	again := open(t, s, inst, jupyterApp)
	if again.String() == base.String() && serverPID(t, s, inst.Name) == pid {
		t.Fatal("the crashed server was returned")
	}
	if code, _ := call(t, again, inst.AppSecret, http.MethodGet, "api/status", ""); code != http.StatusOK {
		t.Fatalf("after the crash: status %d", code)
	}
}

func TestStartingOneServerBeyondTheCapStopsTheLeastRecentlyUsed(t *testing.T) {
	s := newServers(t, realJupyter(t), "", 2)
	a, b, c := running("vma", 1), running("vmb", 1), running("vmc", 2)
	open(t, s, a, jupyterApp)
	bBase := open(t, s, b, jupyterApp)
	open(t, s, a, jupyterApp) // a is now used more recently than b
	open(t, s, c, jupyterApp)

	got := s.Running()
	slices.Sort(got)
	if !slices.Equal(got, []string{"vma", "vmc"}) {
		t.Fatalf("running %v, want vma and vmc (vmb was used least recently)", got)
	}
	deadline := time.Now().Add(15 * time.Second)
	for answers(bBase, b.AppSecret) {
		if time.Now().After(deadline) {
			t.Fatalf("vmb's server at %s still answers", bBase.Host)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestNotebooksBelongToTheOwnerAcrossInstancesAndOutliveThem(t *testing.T) {
	s := newServers(t, realJupyter(t), "", 0)
	first, second, other := running("vm1", 7), running("vm2", 7), running("vm3", 8)
	base := open(t, s, first, jupyterApp)
	if code, body := call(t, base, first.AppSecret, http.MethodPut, "api/contents/shared.txt", `{"type":"file","format":"text","content":"hello"}`); code != http.StatusCreated {
		t.Fatalf("save file: %d %s", code, body)
	}
	if code, body := call(t, open(t, s, second, jupyterApp), second.AppSecret, http.MethodGet, "api/contents/shared.txt", ""); code != http.StatusOK || !strings.Contains(body, "hello") {
		t.Fatalf("the owner's other instance: %d %s, want the file", code, body)
	}
	if code, _ := call(t, open(t, s, other, jupyterApp), other.AppSecret, http.MethodGet, "api/contents/shared.txt", ""); code != http.StatusNotFound {
		t.Fatalf("another owner's instance: %d, want 404", code)
	}

	// vm1 deleted and created again under the same name: a new secret, a new
	// server, the same files.
	recreated := running("vm1", 7)
	newBase := open(t, s, recreated, jupyterApp)
	if code, _ := call(t, newBase, recreated.AppSecret, http.MethodGet, "api/contents/shared.txt", ""); code != http.StatusOK {
		t.Fatalf("the recreated instance: %d, want the file", code)
	}
	if code, _ := call(t, newBase, first.AppSecret, http.MethodGet, "api/status", ""); code != http.StatusForbidden {
		t.Fatalf("the deleted instance's secret on the new server: %d, want 403", code)
	}
	_ = s.Close() // waits for the servers stopped in the background too
	for b, secret := range map[*url.URL]string{base: first.AppSecret, newBase: recreated.AppSecret} {
		if answers(b, secret) {
			t.Fatalf("%s answers after Close", b.Host)
		}
	}
}

// serverPID is the process id of name's running server.
func serverPID(t *testing.T, s *Servers, name string) int {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	srv := s.servers[name]
	if srv == nil {
		t.Fatalf("no server for %s", name)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return srv.proc.cmd.Process.Pid
}

// kernelsOf finds the kernels server pid started: jupyter_client tells each
// its parent in JPY_PARENT_PID. Linux only; elsewhere none are found.
func kernelsOf(pid int) []int {
	entries, _ := os.ReadDir("/proc")
	var kernels []int
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", p))
		if err == nil && slices.Contains(strings.Split(string(env), "\x00"), "JPY_PARENT_PID="+strconv.Itoa(pid)) {
			kernels = append(kernels, p)
		}
	}
	return kernels
}

// waitGone waits until process pid has ended (a zombie counts as ended).
func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil || strings.Contains(string(stat), ") Z ") {
			return
		}
		if runtime.GOOS != "linux" || time.Now().After(deadline) {
			t.Fatalf("process %d still runs: %s", pid, stat)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// answers reports whether anything listens at base's address.
// answers tells whether the server of the instance with that secret still
// answers at base. Another server that took the port since (other tests'
// and packages' Jupyters pick free ports too) has another secret and says
// 403: it is not that server.
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
