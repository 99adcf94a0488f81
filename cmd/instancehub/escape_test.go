//go:build linux

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/instancehub/instancehub/internal/pgtest"
)

// escapes are what a Data Scientist's notebook tries, from a kernel and
// from a terminal, to reach beyond its sandbox: each must fail. The issue
// that brought the sandbox lists the first ones, done on an unsandboxed
// portal from one notebook cell.
var escapes = []string{
	"open the portal's database",
	"open the emulator's database",
	"read the data directory",
	"read the portal's command line",
	"read the portal's environment",
	"find a portal variable in the environment",
	"find a portal variable in any process",
	"list another owner's folder",
	"read another owner's file",
	"see another instance's home",
	"connect to the portal",
	"connect to the debug listener",
	"connect to PostgreSQL",
	"connect to the emulator",
	"connect to a loopback listener of the machine",
	"connect to the machine's own address",
	"reach the Internet",
	"reach another owner's Jupyter socket",
	"reach the owner's other instance's Jupyter socket",
	"signal the portal",
	"kill the portal",
	"read the portal's /proc",
	"ptrace the sandbox's first process",
	"read the sandbox's first process's environment",
	"write in /usr",
	"write in /etc",
	"write in /",
	"write in /home",
	"write in /mnt/cloudfiles",
	"write in /proc/sys",
	"make a device in /dev",
	"see the machine's disks or memory in /dev",
	"read /etc/shadow",
	"read the machine's SSH keys",
	"mount a file system",
	"become root through a setuid program",
	"run with new privileges allowed",
	"raise the process limit",
	"read the portal's program",
}

// kernelEscapes is the Python a kernel runs: each attempt prints
// "blocked <name>" when it fails and "ESCAPED <name>: <what>" when it
// does not.
const kernelEscapes = `import ctypes, ctypes.util, errno, glob, os, resource, socket, stat, subprocess
libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
def attempt(name, fn):
    try:
        print("ESCAPED %s: %.200r" % (name, fn()))
    except BaseException as e:
        print("blocked %s (%s: %.150s)" % (name, type(e).__name__, e))
def connect(host, port):
    s = socket.create_connection((host, port), timeout=3)
    s.close()
    return "connected to %s:%d" % (host, port)
def unix(path):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(3)
    s.connect(path)
    return "connected to " + path
def none_of(found):
    if not found:
        raise LookupError("none")
    return found
def sys_ok(result):
    if result != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return "allowed"
def write(path):
    with open(path, "w") as f:
        f.write("x")
    return "wrote " + path
def portal_variables_anywhere():
    found = []
    for env in glob.glob("/proc/[0-9]*/environ"):
        try:
            if b"INSTANCEHUB" in open(env, "rb").read():
                found.append(env)
        except OSError:
            pass
    return none_of(found)
def devices():
    return none_of([d for d in ["/dev/mem", "/dev/kmem", "/dev/kmsg", "/dev/sda", "/dev/vda", "/dev/nvme0n1", "/dev/kvm", "/dev/port"] if os.path.exists(d)])
def setuid():
    r = subprocess.run(["su", "-c", "id -u", "root"], input=b"", capture_output=True, timeout=20)
    if r.stdout.strip() == b"0":
        return "root"
    raise PermissionError(r.stderr.decode()[:100])
def new_privs():
    if "NoNewPrivs:\t1" in open("/proc/self/status").read():
        raise PermissionError("no_new_privs is set")
    return "no_new_privs is off"
def raise_nproc():
    resource.setrlimit(resource.RLIMIT_NPROC, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    return "unlimited"
attempt("open the portal's database", lambda: open(DATA + "/instancehub.db", "rb").read(16))
attempt("open the emulator's database", lambda: open(EMULATOR_DATA + "/emulator.db", "rb").read(16))
attempt("read the data directory", lambda: os.listdir(DATA))
attempt("read the portal's command line", lambda: open("/proc/%d/cmdline" % PORTAL).read())
attempt("read the portal's environment", lambda: open("/proc/%d/environ" % PORTAL).read())
attempt("find a portal variable in the environment", lambda: none_of([k for k in os.environ if k.startswith("INSTANCEHUB")]))
attempt("find a portal variable in any process", portal_variables_anywhere)
attempt("list another owner's folder", lambda: os.listdir(OTHER_FOLDER))
attempt("read another owner's file", lambda: open(OTHER_FOLDER + "/secret.txt").read())
attempt("see another instance's home", lambda: none_of([h for h in os.listdir("/home") if h != "azureuser"] + glob.glob(DATA + "/sandboxes/*")))
attempt("connect to the portal", lambda: connect("127.0.0.1", PORTAL_PORT))
attempt("connect to the debug listener", lambda: connect("127.0.0.1", DEBUG_PORT))
attempt("connect to PostgreSQL", lambda: connect(POSTGRES_HOST, POSTGRES_PORT))
attempt("connect to the emulator", lambda: connect("127.0.0.1", EMULATOR_PORT))
attempt("connect to a loopback listener of the machine", lambda: connect("127.0.0.1", LISTENER_PORT))
attempt("connect to the machine's own address", lambda: connect(MACHINE_ADDRESS, LISTENER_PORT))
attempt("reach the Internet", lambda: connect("1.1.1.1", 53))
attempt("reach another owner's Jupyter socket", lambda: unix(OTHER_SOCKET))
attempt("reach the owner's other instance's Jupyter socket", lambda: unix(SIBLING_SOCKET))
attempt("signal the portal", lambda: os.kill(PORTAL, 0) or "signalled")
attempt("kill the portal", lambda: os.kill(PORTAL, 9) or "killed")
attempt("read the portal's /proc", lambda: os.listdir("/proc/%d" % PORTAL))
attempt("ptrace the sandbox's first process", lambda: sys_ok(libc.ptrace(16, 1, None, None)))
attempt("read the sandbox's first process's environment", lambda: open("/proc/1/environ", "rb").read())
attempt("write in /usr", lambda: write("/usr/escaped"))
attempt("write in /etc", lambda: write("/etc/escaped"))
attempt("write in /", lambda: write("/escaped"))
attempt("write in /home", lambda: write("/home/escaped"))
attempt("write in /mnt/cloudfiles", lambda: write("/mnt/cloudfiles/escaped"))
attempt("write in /proc/sys", lambda: write("/proc/sys/kernel/hostname"))
attempt("make a device in /dev", lambda: os.mknod("/dev/escaped", stat.S_IFCHR | 0o666, os.makedev(1, 1)) or "made")
attempt("see the machine's disks or memory in /dev", devices)
attempt("read /etc/shadow", lambda: open("/etc/shadow").read())
attempt("read the machine's SSH keys", lambda: none_of(glob.glob("/etc/ssh/*key*")))
attempt("mount a file system", lambda: sys_ok(libc.mount(b"none", b"/tmp", b"tmpfs", 0, None)))
attempt("become root through a setuid program", setuid)
attempt("run with new privileges allowed", new_privs)
attempt("raise the process limit", raise_nproc)
attempt("read the portal's program", lambda: open(PROGRAM, "rb").read(4))
`

// terminalEscapes is the shell a terminal runs, in the same words.
const terminalEscapes = `try() { name=$1; shift; if "$@" >/dev/null 2>&1; then echo "ESCAPED $name"; else echo "blocked $name"; fi; }
tcp() { timeout 5 bash -c "exec 3<>/dev/tcp/$1/$2"; }
try "open the portal's database" head -c 16 "$DATA/instancehub.db"
try "open the emulator's database" head -c 16 "$EMULATOR_DATA/emulator.db"
try "read the data directory" ls "$DATA"
try "read the portal's command line" cat /proc/$PORTAL/cmdline
try "read the portal's environment" cat /proc/$PORTAL/environ
try "find a portal variable in the environment" sh -c 'env | grep ^INSTANCEHUB'
try "find a portal variable in any process" sh -c 'grep -l INSTANCEHUB /proc/[0-9]*/environ'
try "list another owner's folder" ls "$OTHER_FOLDER"
try "read another owner's file" cat "$OTHER_FOLDER/secret.txt"
try "see another instance's home" sh -c 'ls /home | grep -vx azureuser || ls -d "$0"/sandboxes/*' "$DATA"
try "connect to the portal" tcp 127.0.0.1 $PORTAL_PORT
try "connect to the debug listener" tcp 127.0.0.1 $DEBUG_PORT
try "connect to PostgreSQL" tcp $POSTGRES_HOST $POSTGRES_PORT
try "connect to the emulator" tcp 127.0.0.1 $EMULATOR_PORT
try "connect to a loopback listener of the machine" tcp 127.0.0.1 $LISTENER_PORT
try "connect to the machine's own address" tcp $MACHINE_ADDRESS $LISTENER_PORT
try "reach the Internet" tcp 1.1.1.1 53
try "reach another owner's Jupyter socket" test -S "$OTHER_SOCKET"
try "reach the owner's other instance's Jupyter socket" test -S "$SIBLING_SOCKET"
try "signal the portal" kill -0 $PORTAL
try "kill the portal" kill -9 $PORTAL
try "read the portal's /proc" ls /proc/$PORTAL
try "ptrace the sandbox's first process" python3 -c 'import ctypes, sys; sys.exit(ctypes.CDLL(None).ptrace(16, 1, 0, 0) != 0)'
try "read the sandbox's first process's environment" cat /proc/1/environ
try "write in /usr" touch /usr/escaped
try "write in /etc" touch /etc/escaped
try "write in /" touch /escaped
try "write in /home" touch /home/escaped
try "write in /mnt/cloudfiles" touch /mnt/cloudfiles/escaped
try "write in /proc/sys" sh -c 'echo x > /proc/sys/kernel/hostname'
try "make a device in /dev" mknod /dev/escaped c 1 1
try "see the machine's disks or memory in /dev" sh -c 'ls /dev/mem /dev/kmem /dev/kmsg /dev/sda /dev/vda /dev/nvme0n1 /dev/kvm /dev/port 2>/dev/null | grep .'
try "read /etc/shadow" cat /etc/shadow
try "read the machine's SSH keys" sh -c 'ls /etc/ssh/*key* 2>/dev/null | grep .'
try "mount a file system" mount -t tmpfs none /tmp
try "become root through a setuid program" sh -c 'test "$(su -c "id -u" root </dev/null)" = 0'
try "run with new privileges allowed" sh -c '! grep -q "NoNewPrivs:.1" /proc/self/status'
try "raise the process limit" sh -c 'ulimit -u unlimited'
try "read the portal's program" head -c 4 "$PROGRAM"
`

// TestANotebookCannotLeaveItsSandbox is the escape test: the real program
// (as root here and in CI, as in many containers) with its emulator in a
// process of its own, a debug listener and PostgreSQL on the machine; a
// Data Scientist opens Jupyter through the gateway, and a kernel and a
// terminal of theirs try each of escapes, which all fail. Then: files
// written in ~/cloudfiles/code are seen from the owner's other instance
// and not from another owner's; Restart leaves no process of the sandbox,
// nor does Stop, which asks first (a notebook is connected); Delete
// removes the instance's home; and a terminal that kills every process it
// can kills its own sandbox alone.
func TestANotebookCannotLeaveItsSandbox(t *testing.T) {
	realJupyter(t)
	const password = "the owner's long password"
	t.Setenv("INSTANCEHUB_ADMIN_PASSWORD", password)
	t.Setenv("INSTANCEHUB_OIDC_CLIENT_SECRET", "a secret of the portal's environment")
	postgres, err := pgtest.Server()
	if err != nil {
		t.Fatal(err)
	}
	pg, _ := url.Parse(postgres)
	emuData := t.TempDir()
	emu := startProcess(t, "emulator", "--addr", "127.0.0.1:0", "--data", emuData, "--emulator-latency", "0")
	data := t.TempDir()
	debugPort := freeTCPPort(t)
	p := startProcess(t, "serve", "--addr", "127.0.0.1:0", "--data", data, "--admin-email", "owner@example.com",
		"--emulator-url", emu.url, "--emulator-ca", emuData+"/emulator-cert.pem", "--sync-interval", "1h",
		"--debug-addr", "127.0.0.1:"+strconv.Itoa(debugPort))
	// A listener of the machine's, on every address: reachable from the
	// machine, not from a sandbox.
	listener, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	defer listener.Close()
	go func() {
		for {
			c, err := listener.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	machine := machineAddress(t)
	listenerPort := listener.Addr().(*net.TCPAddr).Port
	for _, addr := range []string{"127.0.0.1", machine} {
		c, err := net.DialTimeout("tcp", net.JoinHostPort(addr, strconv.Itoa(listenerPort)), 3*time.Second)
		if err != nil {
			t.Fatalf("the machine's own listener does not answer on %s: %v", addr, err)
		}
		c.Close()
	}

	ctx := context.Background()
	if err := run(ctx, []string{"users", "add", "--data", data, "--email", "dana@example.com", "--name", "Dana Scientist"},
		strings.NewReader("dana's long password\n"), io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	if err := run(ctx, []string{"roles", "assign", "--data", data, "--email", "dana@example.com", "--role", "Data Scientist"},
		nil, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	owner := newPerson(t, p.url)
	owner.signIn("owner@example.com", password)
	owner.create("owner-box")
	ownerApp := owner.openApp("owner-box", "jupyter")
	if res, body := owner.do("PUT", ownerApp+"/api/contents/cloudfiles/code/secret.txt", `{"type":"file","format":"text","content":"the owner's secret"}`); res.StatusCode != http.StatusCreated {
		t.Fatalf("the owner saves a file: %d %s", res.StatusCode, body)
	}
	dana := newPerson(t, p.url)
	dana.signIn("dana@example.com", "dana's long password")
	dana.create("dana-box")
	dana.create("dana-two")
	danaApp := dana.openApp("dana-box", "jupyter")
	twoApp := dana.openApp("dana-two", "jupyter")

	ownerFolder := filepath.Join(data, "notebooks", "1")
	if _, err := os.Stat(filepath.Join(ownerFolder, "secret.txt")); err != nil {
		t.Fatalf("the owner's file is not in the owner's folder: %v", err)
	}
	variables := map[string]string{
		"DATA": data, "EMULATOR_DATA": emuData, "PORTAL": strconv.Itoa(p.cmd.Process.Pid),
		"PORTAL_PORT": port(t, p.url), "DEBUG_PORT": strconv.Itoa(debugPort), "EMULATOR_PORT": port(t, emu.url),
		"POSTGRES_HOST": pg.Hostname(), "POSTGRES_PORT": pg.Port(), "LISTENER_PORT": strconv.Itoa(listenerPort),
		"MACHINE_ADDRESS": machine, "OTHER_FOLDER": ownerFolder, "PROGRAM": os.Args[0],
		"OTHER_SOCKET": socketOf(t, data, "owner-box"), "SIBLING_SOCKET": socketOf(t, data, "dana-two"),
	}
	if variables["POSTGRES_PORT"] == "" {
		variables["POSTGRES_PORT"] = "5432"
	}

	t.Run("from a kernel", func(t *testing.T) {
		var python strings.Builder
		for _, k := range sortedKeys(variables) {
			v := variables[k]
			if _, err := strconv.Atoi(v); err == nil {
				fmt.Fprintf(&python, "%s = %s\n", k, v)
			} else {
				fmt.Fprintf(&python, "%s = %q\n", k, v)
			}
		}
		out, errName := execute(t, dana.kernel(danaApp), python.String()+kernelEscapes)
		if errName != "" {
			t.Fatalf("the escapes raised %s:\n%s", errName, out)
		}
		checkEscapes(t, out)
	})
	term := dana.terminal(danaApp)
	t.Run("from a terminal", func(t *testing.T) {
		var shell strings.Builder
		for _, k := range sortedKeys(variables) {
			fmt.Fprintf(&shell, "%s=%q\n", k, variables[k])
		}
		body, _ := json.Marshal(map[string]string{"type": "file", "format": "text", "content": shell.String() + terminalEscapes})
		if res, page := dana.do("PUT", danaApp+"/api/contents/escapes.sh", string(body)); res.StatusCode != http.StatusCreated {
			t.Fatalf("save the script: %d %s", res.StatusCode, page)
		}
		checkEscapes(t, typeLine(t, term, "bash ~/escapes.sh"))
	})
	if res, _ := http.Get(p.url + "/healthz"); res == nil || res.StatusCode != http.StatusOK {
		t.Fatal("the portal does not answer after the escapes")
	}

	t.Run("cloudfiles are the owner's, across the owner's instances", func(t *testing.T) {
		if out := typeLine(t, term, "echo from dana-box > ~/cloudfiles/code/shared.txt && echo saved"); !strings.Contains(out, "saved") {
			t.Fatalf("the terminal could not write in ~/cloudfiles/code: %q", out)
		}
		if res, body := dana.do("GET", twoApp+"/api/contents/cloudfiles/code/shared.txt", nil); res.StatusCode != http.StatusOK || !strings.Contains(body, "from dana-box") {
			t.Errorf("the owner's other instance: %d %.300s, want the file", res.StatusCode, body)
		}
		if res, _ := owner.do("GET", ownerApp+"/api/contents/cloudfiles/code/shared.txt", nil); res.StatusCode != http.StatusNotFound {
			t.Errorf("another owner's instance: %d, want 404", res.StatusCode)
		}
		if res, _ := dana.do("GET", twoApp+"/api/contents/cloudfiles/code/secret.txt", nil); res.StatusCode != http.StatusNotFound {
			t.Errorf("the other owner's file from Dana's instance: %d, want 404", res.StatusCode)
		}
	})

	t.Run("Restart and Stop leave no process, Delete no home", func(t *testing.T) {
		sandbox := func() string {
			out, _ := execute(t, dana.kernel(twoApp), `import os; print(os.readlink("/proc/self/ns/pid"))`)
			ns := strings.TrimSpace(out)
			if n := len(processesIn(ns)); n < 3 {
				t.Fatalf("%d processes in dana-two's sandbox (%s), want bwrap's, Jupyter and the kernel", n, ns)
			}
			return ns
		}
		ns := sandbox()
		dana.confirm("dana-two", "restart")
		waitFor(t, 15*time.Second, "no process left in dana-two's sandbox after Restart", func() bool { return len(processesIn(ns)) == 0 })
		dana.waitState("dana-two", "Running")
		twoApp = dana.openApp("dana-two", "jupyter")
		ns = sandbox()
		// A notebook is connected: Stop asks first, and goes on once confirmed.
		if page := dana.act("dana-two", "stop"); !strings.Contains(page, "1 notebook connected: unsaved changes will be lost.") {
			t.Fatalf("Stop of an instance with a notebook connected did not ask: %.2000s", page)
		}
		dana.confirm("dana-two", "stop")
		dana.waitState("dana-two", "Stopped")
		waitFor(t, 15*time.Second, "no process left in dana-two's sandbox", func() bool { return len(processesIn(ns)) == 0 })
		home := filepath.Dir(filepath.Dir(socketOf(t, data, "dana-two")))
		if _, err := os.Stat(home); err != nil {
			t.Fatalf("Stop removed dana-two's home: %v", err)
		}
		dana.confirm("dana-two", "delete")
		waitFor(t, 60*time.Second, "dana-two's home gone", func() bool {
			_, err := os.Stat(home)
			return os.IsNotExist(err)
		})
	})

	t.Run("a terminal that kills all it can ends its own sandbox only", func(t *testing.T) {
		typeLineNoWait(t, term, "kill -9 -1")
		ws := term
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for { // the terminal's socket closes with the sandbox
			if _, _, err := ws.Read(ctx); err != nil {
				break
			}
		}
		for _, app := range []string{ownerApp} {
			if res, body := owner.do("GET", app+"/api/status", nil); res.StatusCode != http.StatusOK {
				t.Errorf("the owner's Jupyter after Dana's kill -9 -1: %d %.200s", res.StatusCode, body)
			}
		}
		if res, err := http.Get(p.url + "/healthz"); err != nil || res.StatusCode != http.StatusOK {
			t.Errorf("the portal after Dana's kill -9 -1: %v", err)
		}
	})
}

// checkEscapes fails the test for each escape out does not say was blocked.
func checkEscapes(t *testing.T, out string) {
	t.Helper()
	blocked := map[string]bool{}
	lines := bufio.NewScanner(strings.NewReader(out))
	for lines.Scan() {
		line := strings.TrimSpace(terminalControls.ReplaceAllString(lines.Text(), ""))
		if strings.HasPrefix(line, "ESCAPED ") {
			t.Errorf("%s", line)
		}
		for _, name := range escapes {
			if strings.HasPrefix(line, "blocked "+name+" (") || line == "blocked "+name {
				blocked[name] = true
			}
		}
	}
	for _, name := range escapes {
		if !blocked[name] {
			t.Errorf("no answer for %q", name)
		}
	}
	if t.Failed() {
		t.Logf("what the sandbox printed:\n%s", out)
	}
}

// act submits an action of an instance's page, as a browser without script
// does, and returns the page that asks first, "" when it did not ask.
func (p *person) act(name, action string) string {
	p.t.Helper()
	return p.submit(name, action, url.Values{})
}

// confirm submits an action confirmed, as the page that asks first does.
func (p *person) confirm(name, action string) {
	p.t.Helper()
	if page := p.submit(name, action, url.Values{"confirmed": {"1"}}); page != "" {
		p.t.Fatalf("%s %s confirmed asked again: %.500s", action, name, page)
	}
}

func (p *person) submit(name, action string, form url.Values) string {
	p.t.Helper()
	_, page := p.do("GET", p.portal+"/instances/"+name, nil)
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		p.t.Fatalf("no CSRF token on %s's page", name)
	}
	form.Set("_csrf", m[1])
	res, page := p.do("POST", p.portal+"/instances/"+name+"/"+action, form)
	switch {
	case res.StatusCode == http.StatusSeeOther:
		return ""
	case res.StatusCode == http.StatusOK && strings.Contains(page, `data-testid="action-loss"`):
		return page
	}
	p.t.Fatalf("%s %s: %d %.500s", action, name, res.StatusCode, page)
	return ""
}

// typeLineNoWait types a line whose end cannot be waited for.
func typeLineNoWait(t *testing.T, term *websocket.Conn, line string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := wsjson.Write(ctx, term, []string{"stdin", line + "\r"}); err != nil {
		t.Fatal(err)
	}
}

// socketOf is the Jupyter socket of the running instance name, as the
// machine sees it.
func socketOf(t *testing.T, data, name string) string {
	t.Helper()
	matches, _ := filepath.Glob(filepath.Join(data, "sandboxes", name+"-*", "run", "jupyter.sock"))
	if len(matches) != 1 {
		t.Fatalf("sockets of %s: %v, want one", name, matches)
	}
	return matches[0]
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

func waitFor(t *testing.T, d time.Duration, what string, done func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); !done(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", d, what)
		}
	}
}

func freeTCPPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// terminalControls are the escape sequences a terminal's output carries
// (bracketed paste on and off around each command).
var terminalControls = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]`)

var portOf = regexp.MustCompile(`:(\d+)$`)

func port(t *testing.T, u string) string {
	t.Helper()
	m := portOf.FindStringSubmatch(strings.TrimSuffix(u, "/"))
	if m == nil {
		t.Fatalf("no port in %s", u)
	}
	return m[1]
}

// machineAddress is an address of the machine other than loopback.
func machineAddress(t *testing.T) string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if ip, ok := a.(*net.IPNet); ok && ip.IP.To4() != nil && !ip.IP.IsLoopback() {
			return ip.IP.String()
		}
	}
	t.Fatal("the machine has no address but loopback")
	return ""
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
