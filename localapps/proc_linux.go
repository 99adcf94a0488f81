package localapps

import "syscall"

// parentDeathSignal has Linux send the server SIGTERM when the portal dies
// without a chance to stop it (killed, crashed): Jupyter then shuts its
// kernels down, and no server outlives the portal. Linux ties the signal to
// the thread that started the server, and the Go runtime ends a thread only
// when a goroutine locked to it returns, which the portal never does.
func parentDeathSignal(attr *syscall.SysProcAttr) {
	attr.Pdeathsig = syscall.SIGTERM
}
