package localapps

import (
	"fmt"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// parentDeathSignal has Linux send the server SIGTERM when the portal dies
// without a chance to stop it (killed, crashed): Jupyter then shuts its
// kernels down, and no server outlives the portal. Linux ties the signal to
// the thread that started the server, and the Go runtime ends a thread only
// when a goroutine locked to it returns, which the portal never does. A
// sandbox's bwrap (--die-with-parent) then kills its first process, and
// with it every process of its PID namespace.
func parentDeathSignal(attr *syscall.SysProcAttr) {
	attr.Pdeathsig = syscall.SIGTERM
}

// sandboxInit is a sandbox's first process (PID 1 of its namespace) held
// by a pidfd, so that a signal never reaches another process that took
// its number since.
type sandboxInit struct {
	pid   int
	pidfd int
	// pidNamespace is its PID namespace ("pid:[4026532174]"), which every
	// process of the sandbox shares.
	pidNamespace string
}

func openInit(pid int) (*sandboxInit, error) {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return nil, fmt.Errorf("pidfd of the sandbox's first process %d: %w", pid, err)
	}
	ns, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", pid))
	return &sandboxInit{pid: pid, pidfd: fd, pidNamespace: ns}, nil
}

// kill ends the sandbox: when the first process of a PID namespace dies,
// Linux kills every other process in it, and the first one's exit waits
// for them all, so bwrap, its parent, exits once none is left.
func (s *sandboxInit) kill() {
	_ = unix.PidfdSendSignal(s.pidfd, unix.SIGKILL, nil, 0) // ESRCH once it has ended
}

func (s *sandboxInit) close() { unix.Close(s.pidfd) }
