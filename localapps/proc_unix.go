//go:build unix

package localapps

import (
	"os"
	"os/exec"
	"syscall"
)

// ownGroup puts the server in a process group of its own, so that stopping
// it reaches what it runs in that group and a Ctrl-C meant for the portal's
// terminal is the portal's to handle.
func ownGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	parentDeathSignal(cmd.SysProcAttr)
}

// signalGroup sends SIGTERM, or SIGKILL when kill is set, to the server's
// process group.
func signalGroup(cmd *exec.Cmd, kill bool) {
	sig := syscall.SIGTERM
	if kill {
		sig = syscall.SIGKILL
	}
	_ = syscall.Kill(-cmd.Process.Pid, sig) // ESRCH once the group is gone
}

// ownedBy reports whether the file st describes belongs to uid.
func ownedBy(st os.FileInfo, uid uint32) bool {
	sys, ok := st.Sys().(*syscall.Stat_t)
	return ok && sys.Uid == uid
}
