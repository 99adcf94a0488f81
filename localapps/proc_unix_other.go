//go:build unix && !linux

package localapps

import "syscall"

// parentDeathSignal: only Linux can signal a child when its parent dies;
// elsewhere Close stops the servers on a clean exit.
func parentDeathSignal(*syscall.SysProcAttr) {}
