package localapps

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// Check says why no sandbox can be made on this machine, "" when one can
// (or when Config.Unsafe asks for none). It tries once, by running a
// command in a sandbox made as Jupyter's are, and then keeps its answer.
// The offline Jupyter and Terminal are off, with that reason, when there
// is one: never run outside a sandbox unless asked.
func (s *Servers) Check() string {
	s.checked.Do(func() {
		if !s.cfg.Unsafe {
			s.unavailable = s.check()
		}
	})
	return s.unavailable
}

const unsandboxed = " Install Debian's bubblewrap (make run does), or start the portal with --unsafe-local-apps to run it unsandboxed, with the portal's access to everything."

func (s *Servers) check() string {
	if runtime.GOOS != "linux" {
		return "The offline Jupyter runs in a bubblewrap sandbox, which needs Linux." + unsandboxed
	}
	bwrap, err := exec.LookPath(s.cfg.Bwrap)
	if err != nil {
		return fmt.Sprintf("bubblewrap (%s) is not installed on the portal's machine, so the offline Jupyter cannot run in a sandbox.", s.cfg.Bwrap) + unsandboxed
	}
	for _, tool := range []string{"/usr/bin/prlimit", "/usr/bin/setpriv"} {
		if _, err := os.Stat(tool); err != nil {
			return fmt.Sprintf("%s (util-linux) is missing, which the offline Jupyter's sandbox needs.", tool) + unsandboxed
		}
	}
	if out, err := s.trySandbox(bwrap); err != nil {
		return fmt.Sprintf("bubblewrap cannot make a sandbox on this machine (%s), so the offline Jupyter cannot run in one; user namespaces may be refused.", firstLine(out, err)) + unsandboxed
	}
	return ""
}

// trySandbox runs /usr/bin/true in a sandbox made as a Jupyter's is, on
// folders of its own, as the first owner's user.
func (s *Servers) trySandbox(bwrap string) (string, error) {
	dir := filepath.Join(s.cfg.DataDir, "sandboxes", ".check")
	defer os.RemoveAll(dir)
	user, err := s.userOf(0)
	if err != nil {
		return "", err
	}
	f := folders{code: filepath.Join(dir, "code"), sandbox: dir, home: filepath.Join(dir, "home"), run: filepath.Join(dir, "run")}
	if err := f.prepare(user, true); err != nil {
		return "", err
	}
	sb := &sandbox{bwrap: bwrap, hostname: "check", home: f.home, code: f.code, run: f.run, user: user,
		memory: s.cfg.MemoryMax, tmp: 1 << 20, processes: s.cfg.Processes}
	cmd, p, err := sb.command([]string{"/usr/bin/true"})
	if err != nil {
		return "", err
	}
	proc, err := startProcess(cmd, "", 0, p)
	if err != nil {
		return "", err
	}
	select {
	case <-proc.done:
	case <-time.After(30 * time.Second):
		proc.stop()
		return proc.output(), context.DeadlineExceeded
	}
	if code := cmd.ProcessState.ExitCode(); code != 0 {
		return proc.output(), fmt.Errorf("exit status %d", code)
	}
	return "", nil
}

func firstLine(out string, err error) string {
	if line, _, _ := strings.Cut(strings.TrimSpace(out), "\n"); line != "" {
		return line
	}
	return err.Error()
}
