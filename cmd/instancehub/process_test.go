package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// process is an instancehub command run by the test binary in a process of
// its own (mainEnv), with its log kept.
type process struct {
	cmd  *exec.Cmd
	logs syncBuffer
	// url is the address its "serving" log line names.
	url  string
	done chan struct{}
}

var servingURL = regexp.MustCompile(`msg="serving the (?:portal|emulator)".* url=(\S+)`)

// startProcess runs `instancehub args…` and waits until it serves. A
// process still running when the test ends is stopped with SIGTERM, as an
// operator stops one.
func startProcess(t *testing.T, args ...string) *process {
	t.Helper()
	return startProcessIn(t, "", args...)
}

// startProcessIn is startProcess in the working directory dir ("": the
// test's).
func startProcessIn(t *testing.T, dir string, args ...string) *process {
	t.Helper()
	p := &process{cmd: exec.Command(os.Args[0], args...), done: make(chan struct{})}
	p.cmd.Dir = dir
	p.cmd.Env = append(os.Environ(), mainEnv+"=1")
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	serving := make(chan string, 1)
	go func() {
		defer close(p.done)
		lines := bufio.NewScanner(stderr)
		lines.Buffer(nil, 1<<20)
		for lines.Scan() {
			fmt.Fprintln(&p.logs, lines.Text())
			if m := servingURL.FindStringSubmatch(lines.Text()); m != nil {
				serving <- m[1]
			}
		}
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		_ = p.cmd.Wait()
		if t.Failed() {
			t.Logf("instancehub %s:\n%s", strings.Join(args[:1], " "), p.logs.String())
		}
	})
	select {
	case p.url = <-serving:
	case <-p.done:
		t.Fatalf("instancehub %s ended:\n%s", strings.Join(args, " "), p.logs.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("instancehub %s did not start:\n%s", strings.Join(args, " "), p.logs.String())
	}
	return p
}

// kill ends the process with SIGKILL: no shutdown, no lease let go.
func (p *process) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-p.done
}
