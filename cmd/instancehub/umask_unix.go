//go:build unix

package main

import "syscall"

// setPrivateUmask makes every file the process creates its user's alone.
func setPrivateUmask() { syscall.Umask(0o077) }
