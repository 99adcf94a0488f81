package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// lockName is the file in the data directory that one portal holds locked
// for as long as it runs: two portals on one directory would each rewrite
// the emulator's state from their own memory, and VMs made through one
// would vanish.
const lockName = "instancehub.lock"

// dataLock is the data directory's lock, held until Release or the
// process's end (the kernel drops it even after kill -9).
type dataLock struct{ f *os.File }

// lockData takes the data directory for this process, creating the
// directory if needed. When another process holds it, the error names that
// process's PID, which the lock file records.
func lockData(dir string) (*dataLock, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("lock the data directory: %w", err)
	}
	path := filepath.Join(dir, lockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock the data directory: %w", err)
	}
	if err := tryLock(f); err != nil {
		f.Close()
		if errors.Is(err, errLocked) {
			return nil, fmt.Errorf("the data directory %s is in use by another instancehub (PID %s); "+
				"stop it first, or give this one another --data", dir, holder(path))
		}
		return nil, fmt.Errorf("lock the data directory %s: %w", path, err)
	}
	if err := recordPID(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock the data directory %s: %w", path, err)
	}
	return &dataLock{f: f}, nil
}

// recordPID writes this process's PID into the lock file, for the message
// a second process shows.
func recordPID(f *os.File) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err := f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return err
}

// holder reads the PID of the process holding the lock, or says it is unknown.
func holder(path string) string {
	b, err := os.ReadFile(path)
	if pid := strings.TrimSpace(string(b)); err == nil && pid != "" {
		return pid
	}
	return "unknown"
}

// Release lets another portal take the directory.
func (l *dataLock) Release() error { return l.f.Close() }
