//go:build !unix

package localapps

import (
	"os"
	"os/exec"
)

func ownGroup(*exec.Cmd) {}

// signalGroup: without process groups, the server alone is ended.
func signalGroup(cmd *exec.Cmd, _ bool) { _ = cmd.Process.Kill() }

// ownedBy: without Unix owners, a file belongs to whoever asks.
func ownedBy(os.FileInfo, uint32) bool { return true }
