package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/instancehub/instancehub/internal/pgtest"
)

// mainEnv makes the test binary run as the instancehub command, with its
// arguments: the tests' portals and emulators in processes of their own.
const mainEnv = "INSTANCEHUB_TEST_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(mainEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(pgtest.Run(m))
}

// TestSecondPortalOnOneDataDirectoryStops: while one process serves a data
// directory, a second one exits at once, naming the first one's PID; once
// the first is killed (-9: no chance to clean up), the directory is free.
func TestSecondPortalOnOneDataDirectoryStops(t *testing.T) {
	dir := t.TempDir()
	// A second process, as a second portal would be.
	first := startProcess(t, "serve", "--data", dir, "--addr", "127.0.0.1:0", "--emulator-latency", "0", "--sync-interval", "1h")

	done := make(chan error, 1)
	go func() {
		done <- run(t.Context(), []string{"serve", "--data", dir, "--addr", "127.0.0.1:0", "--emulator-latency", "0"},
			nil, io.Discard, io.Discard)
	}()
	select {
	case err := <-done:
		want := fmt.Sprintf("in use by another instancehub (PID %d)", first.cmd.Process.Pid)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("second portal: %v, want it to say %q", err, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the second portal is serving the same data directory")
	}

	first.kill(t)
	lock, err := lockData(dir)
	if err != nil {
		t.Fatalf("after the first portal died: %v", err)
	}
	lock.Release()
}
