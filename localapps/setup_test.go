//go:build linux

package localapps

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
)

// runSetup runs script on inst and fails the test when it cannot be run.
func runSetup(t *testing.T, s *Servers, inst *instancehub.Instance, phase instancehub.SetupPhase, script *instancehub.SetupScript) *instancehub.SetupResult {
	t.Helper()
	r, err := s.RunSetup(context.Background(), inst, phase, script)
	if err != nil {
		t.Fatalf("RunSetup: %v", err)
	}
	return r
}

// A creation script runs in the instance's sandbox as its root, with the
// reference's variables: what it writes in azureuser's home is there for
// the instance's Jupyter, and belongs outside to the sandbox's user, not
// to the machine's root. A startup script appends on each start, from a
// file of the owner's files with its arguments.
func TestSetupScriptsRunAsTheSandboxsRoot(t *testing.T) {
	dataDir := t.TempDir()
	s := newServers(t, realJupyter(t), dataDir, 0)
	inst := running("scripted", 4)
	inst.State = instancehub.StateCreating

	r := runSetup(t, s, inst, instancehub.SetupCreation, &instancehub.SetupScript{Command: `set -e
echo "I am $(id -u) $(whoami) in $HOME on $CI_NAME for $CI_LOCAL_UBUNTU_USER"
echo made > /home/$CI_LOCAL_UBUNTU_USER/made.txt
echo to stderr >&2`, Timeout: time.Minute})
	if r.ExitCode != 0 || r.TimedOut || r.Phase != instancehub.SetupCreation {
		t.Fatalf("result = %+v", r)
	}
	if want := "I am 0 root in /root on scripted for azureuser\n"; !strings.Contains(r.Log, want) || !strings.Contains(r.Log, "to stderr") {
		t.Errorf("log = %q, want %q and the error output", r.Log, want)
	}
	home := instanceFolders(dataDir, inst).home
	made := filepath.Join(home, "made.txt")
	b, err := os.ReadFile(made)
	if err != nil || string(b) != "made\n" {
		t.Fatalf("made.txt = %q, %v", b, err)
	}
	user, err := s.userOf(inst.OwnerID)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(made); st.Sys().(*syscall.Stat_t).Uid != user.outside {
		t.Errorf("made.txt belongs to uid %d outside, want the sandbox's %d", st.Sys().(*syscall.Stat_t).Uid, user.outside)
	}

	code := instanceFolders(dataDir, inst).code
	if err := os.MkdirAll(filepath.Join(code, "scripts"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(code, "scripts", "start.sh"), []byte(`echo "start $1 $2" >> ~azureuser/starts.txt`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	start := &instancehub.SetupScript{Path: "./scripts/start.sh", Arguments: " one  two ", Timeout: time.Minute}
	for range 2 {
		if r := runSetup(t, s, inst, instancehub.SetupStartup, start); r.ExitCode != 0 {
			t.Fatalf("startup: %+v", r)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(home, "starts.txt")); string(b) != "start one two\nstart one two\n" {
		t.Errorf("starts.txt = %q, want a line per start", b)
	}
}

// A failing script says its exit code with its output; one that outlives
// its timeout is stopped, with whatever it started, and says so.
func TestSetupScriptFailsAndTimesOut(t *testing.T) {
	s := newServers(t, realJupyter(t), t.TempDir(), 0)
	inst := running("failing", 5)
	r := runSetup(t, s, inst, instancehub.SetupCreation, &instancehub.SetupScript{Command: "echo about to fail\nexit 3", Timeout: time.Minute})
	if r.ExitCode != 3 || r.TimedOut || !strings.Contains(r.Log, "about to fail") || !r.Failed() {
		t.Errorf("failed script: %+v", r)
	}
	r = runSetup(t, s, inst, instancehub.SetupCreation, &instancehub.SetupScript{Path: "missing.sh", Timeout: time.Minute})
	if r.ExitCode != 127 || !strings.Contains(r.Log, "missing.sh") {
		t.Errorf("missing file: %+v", r)
	}
	r = runSetup(t, s, inst, instancehub.SetupStartup, &instancehub.SetupScript{Command: "echo sleeping\n(sleep 600 &)\nsleep 600", Timeout: 2 * time.Second})
	if !r.TimedOut || r.ExitCode != -1 || !strings.Contains(r.Log, "sleeping") || !strings.Contains(r.Log, "timeout") {
		t.Errorf("timed out: %+v", r)
	}
	if r.Summary() != "The startup script was stopped at its timeout." {
		t.Errorf("summary = %q", r.Summary())
	}
}

// The output kept is its tail, bounded.
func TestSetupLogKeepsItsTail(t *testing.T) {
	s := newServers(t, realJupyter(t), t.TempDir(), 0)
	r := runSetup(t, s, running("chatty", 6), instancehub.SetupCreation, &instancehub.SetupScript{
		Command: "head -c 300000 /dev/zero | tr '\\0' x; echo; echo the end", Timeout: time.Minute})
	if len(r.Log) > instancehub.MaxSetupLogLength || !strings.HasSuffix(r.Log, "the end\n") || !strings.HasPrefix(r.Log, "[…earlier output cut]") {
		t.Errorf("log of %d bytes: %q…%q", len(r.Log), r.Log[:30], r.Log[len(r.Log)-20:])
	}
}

// The attacker inside: root in the sandbox reaches nothing of the portal.
// The portal's data directory, database and environment are out of sight,
// /usr is read-only, the portal's processes are not in its PID namespace,
// and there is no network but its own loopback.
func TestASetupScriptCannotTouchThePortal(t *testing.T) {
	t.Setenv("INSTANCEHUB_ADMIN_PASSWORD", "the portal's secret")
	dataDir := t.TempDir()
	db := filepath.Join(dataDir, "instancehub.db")
	if err := os.WriteFile(db, []byte("the portal's records"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := newServers(t, realJupyter(t), dataDir, 0)
	r := runSetup(t, s, running("attacker", 7), instancehub.SetupCreation, &instancehub.SetupScript{Command: `
echo "db: $(cat ` + db + ` 2>&1)"
echo owned > ` + db + ` 2>/dev/null && echo "wrote the database"
ls ` + dataDir + ` >/dev/null 2>&1 && echo "saw the data directory"
echo x > /usr/bin/planted 2>/dev/null && echo "wrote /usr"
env
echo "pids: $(ls /proc | grep -c '^[0-9]')"
kill -9 ` + strconv.Itoa(os.Getpid()) + ` 2>/dev/null && echo "killed the portal"
(exec 3<>/dev/tcp/1.1.1.1/53) 2>/dev/null && echo "reached the network"
exit 0`, Timeout: time.Minute})
	for _, bad := range []string{"the portal's records", "wrote the database", "saw the data directory", "wrote /usr", "the portal's secret", "INSTANCEHUB", "killed the portal", "reached the network"} {
		if strings.Contains(r.Log, bad) {
			t.Errorf("the script: %q\n%s", bad, r.Log)
		}
	}
	if b, _ := os.ReadFile(db); string(b) != "the portal's records" {
		t.Errorf("database = %q", b)
	}
	if _, err := os.Stat("/usr/bin/planted"); err == nil {
		t.Error("/usr/bin/planted exists")
	}
	if !strings.Contains(r.Log, "CI_NAME=attacker") {
		t.Errorf("log = %q", r.Log)
	}
}

// Without a sandbox (--unsafe-jupyter), a script never runs as the
// portal's user: it is refused.
func TestSetupScriptsNeedASandbox(t *testing.T) {
	s := newServersWith(t, Config{Jupyter: realJupyter(t), Unsafe: true})
	_, err := s.RunSetup(context.Background(), running("unsafe", 8), instancehub.SetupCreation, &instancehub.SetupScript{Command: "touch /tmp/x"})
	if instancehub.ErrorCode(err) != instancehub.EUNAVAILABLE {
		t.Errorf("err = %v, want unavailable", err)
	}
}
