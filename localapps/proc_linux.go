package localapps

import "syscall"

// parentDeathSignal has Linux send the server SIGTERM when the portal dies
// without a chance to stop it (killed, crashed): Jupyter then shuts its
// kernels down, and no server outlives the portal.
func parentDeathSignal(attr *syscall.SysProcAttr) {
	attr.Pdeathsig = syscall.SIGTERM
}
