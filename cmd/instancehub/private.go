package main

import (
	"fmt"
	"os"
	"path/filepath"
)

// privateData makes the data directory the portal's alone, whatever the
// umask it was started with: the directory 0700, the files directly in it
// 0600 (earlier versions left 0644), and everything the portal makes from
// now on the same (umask 077, which the offline sandboxes inherit: their
// files are their user's alone too).
func privateData(dir string) error {
	setPrivateUmask()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("the data directory: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("the data directory: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("the data directory: %w", err)
	}
	for _, e := range entries {
		if e.Type().IsRegular() {
			if err := os.Chmod(filepath.Join(dir, e.Name()), 0o600); err != nil {
				return fmt.Errorf("the data directory: %w", err)
			}
		}
	}
	return nil
}
