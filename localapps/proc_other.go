//go:build !unix

package localapps

import "os/exec"

func ownGroup(*exec.Cmd) {}

// signalGroup: without process groups, the server alone is ended.
func signalGroup(cmd *exec.Cmd, _ bool) { _ = cmd.Process.Kill() }
