package localapps

import (
	"bytes"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// process is a running Jupyter server, in a process group of its own so
// that it is stopped with whatever it started in that group; in a sandbox,
// cmd is bwrap, and the sandbox's first process is held too.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when it has exited
	out  *tail
	init *sandboxInit // nil without a sandbox

	stopping sync.Once
}

// startProcess starts cmd with its output kept (the last few KB, secret
// masked) for the log of a failed start: Jupyter prints its URL, token
// included, when it starts. For a sandbox (p set), it returns once the
// sandbox runs, its first process known. keep is how many bytes of output
// are kept, 0 for 4 KB: set before the process starts, which may write at
// once.
func startProcess(cmd *exec.Cmd, secret string, keep int, p *pipes) (*process, error) {
	proc := &process{cmd: cmd, done: make(chan struct{}), out: &tail{secret: secret, limit: keep}}
	cmd.Stdout, cmd.Stderr = proc.out, proc.out
	ownGroup(cmd)
	if err := cmd.Start(); err != nil {
		if p != nil {
			p.close()
		}
		return nil, err
	}
	go func() {
		_ = cmd.Wait() // its exit status says nothing the output does not
		close(proc.done)
	}()
	if p == nil {
		return proc, nil
	}
	p.started()
	if err := proc.holdSandbox(p); err != nil {
		proc.stop()
		return nil, fmt.Errorf("%w: %s", err, proc.output())
	}
	return proc, nil
}

// holdSandbox reads which process is the sandbox's first, within a bound.
func (proc *process) holdSandbox(p *pipes) error {
	type result struct {
		pid int
		err error
	}
	read := make(chan result, 1)
	go func() {
		pid, err := p.childPID()
		read <- result{pid, err}
	}()
	select {
	case r := <-read:
		if r.err != nil {
			return r.err
		}
		init, err := openInit(r.pid)
		if err != nil {
			return err
		}
		proc.init = init
		return nil
	case <-time.After(30 * time.Second):
		return fmt.Errorf("bwrap made no sandbox within 30 s")
	}
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop ends a sandbox at once: its first process is killed, and with it
// every process of the sandbox; bwrap exits once none is left. Without a
// sandbox, it asks Jupyter to end (on SIGTERM it shuts its kernels and
// terminals down, which run in sessions of their own). Either way the group
// is killed if it has not ended within ten seconds. It may be called more
// than once, and returns when the process has ended.
func (p *process) stop() {
	p.stopping.Do(p.end)
	<-p.done
}

func (p *process) end() {
	if p.init != nil {
		p.init.kill()
	} else {
		signalGroup(p.cmd, false)
	}
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		signalGroup(p.cmd, true)
		<-p.done
	}
	signalGroup(p.cmd, true) // anything left in the group
	if p.init != nil {
		p.init.close()
	}
}

func (p *process) output() string { return p.out.String() }

// tail keeps the last 4 KB written to it (limit, when set), with the
// secret masked.
type tail struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	secret string
	limit  int
	cut    bool // something was dropped
}

func (t *tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf.Write(b)
	limit := t.limit
	if limit == 0 {
		limit = 4096
	}
	if over := t.buf.Len() - limit; over > 0 {
		t.buf.Next(over)
		t.cut = true
	}
	return len(b), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.secret == "" {
		return t.buf.String()
	}
	return strings.ReplaceAll(t.buf.String(), t.secret, "[secret]")
}
