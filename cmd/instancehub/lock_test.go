package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/instancehub/instancehub/internal/pgtest"
)

// heldDataEnv makes the test binary, re-executed, a portal that serves the
// named data directory until it is killed: a second process, as a second
// portal would be.
const heldDataEnv = "INSTANCEHUB_TEST_SERVE_DATA"

// mainEnv makes the test binary run as the instancehub command, with its
// arguments: the tests' portals and emulators in processes of their own.
const mainEnv = "INSTANCEHUB_TEST_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(mainEnv) == "1" {
		main()
		os.Exit(0)
	}
	if dir := os.Getenv(heldDataEnv); dir != "" {
		err := run(context.Background(), []string{"serve", "--data", dir, "--addr", "127.0.0.1:0",
			"--emulator-latency", "0", "--sync-interval", "1h"}, nil, os.Stdout, os.Stdout)
		fmt.Println("serve ended:", err)
		os.Exit(1)
	}
	code := m.Run()
	pgtest.Stop()
	os.Exit(code)
}

// TestSecondPortalOnOneDataDirectoryStops: while one process serves a data
// directory, a second one exits at once, naming the first one's PID; once
// the first is killed (-9: no chance to clean up), the directory is free.
func TestSecondPortalOnOneDataDirectoryStops(t *testing.T) {
	dir := t.TempDir()
	first := startServing(t, dir)

	done := make(chan error, 1)
	go func() {
		done <- run(t.Context(), []string{"serve", "--data", dir, "--addr", "127.0.0.1:0", "--emulator-latency", "0"},
			nil, io.Discard, io.Discard)
	}()
	select {
	case err := <-done:
		want := fmt.Sprintf("in use by another instancehub (PID %d)", first.Process.Pid)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("second portal: %v, want it to say %q", err, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the second portal is serving the same data directory")
	}

	if err := first.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()
	lock, err := lockData(dir)
	if err != nil {
		t.Fatalf("after the first portal died: %v", err)
	}
	lock.Release()
}

// startServing runs a portal in another process and waits until it serves.
func startServing(t *testing.T, dir string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), heldDataEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	serving := make(chan struct{})
	go func() {
		lines := bufio.NewScanner(out)
		for lines.Scan() {
			if strings.Contains(lines.Text(), "serving the portal") {
				close(serving)
				io.Copy(io.Discard, out)
				return
			}
		}
	}()
	select {
	case <-serving:
	case <-time.After(30 * time.Second):
		t.Fatalf("the first portal did not start")
	}
	return cmd
}
