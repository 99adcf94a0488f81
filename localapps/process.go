package localapps

import (
	"bytes"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// process is a running Jupyter server, in a process group of its own so
// that it is stopped with whatever it started in that group.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when it has exited
	out  *tail
}

// startProcess starts cmd with its output kept (the last few KB, secret
// masked) for the log of a failed start: Jupyter prints its URL, token
// included, when it starts.
func startProcess(cmd *exec.Cmd, secret string) (*process, error) {
	p := &process{cmd: cmd, done: make(chan struct{}), out: &tail{secret: secret}}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	ownGroup(cmd)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		_ = cmd.Wait() // its exit status says nothing the output does not
		close(p.done)
	}()
	return p, nil
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop asks Jupyter to end (on SIGTERM it shuts its kernels and terminals
// down, which run in sessions of their own), then kills its group if it has
// not ended within ten seconds.
func (p *process) stop() {
	signalGroup(p.cmd, false)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		signalGroup(p.cmd, true)
		<-p.done
	}
	signalGroup(p.cmd, true) // anything left in the group
}

func (p *process) output() string { return p.out.String() }

// tail keeps the last 4 KB written to it, with the secret masked.
type tail struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	secret string
}

func (t *tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf.Write(b)
	if over := t.buf.Len() - 4096; over > 0 {
		t.buf.Next(over)
	}
	return len(b), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.ReplaceAll(t.buf.String(), t.secret, "[secret]")
}
