//go:build !unix

package main

// setPrivateUmask: without a umask, files take their folder's rights.
func setPrivateUmask() {}
