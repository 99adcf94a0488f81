package localapps

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// pipes carry bwrap's files in (--ro-bind-data: nothing of them is written
// to disk, where a file readable by the sandbox's user would be readable
// by that user outside as well) and its status out (--info-fd).
type pipes struct {
	child   []*os.File // the ends bwrap gets, fd 3 onwards
	writers []*os.File // the data's other ends, written once bwrap runs
	content [][]byte
	status  *os.File // --info-fd's other end
}

// data adds a pipe that will carry b and returns its fd in bwrap.
func (p *pipes) data(b []byte) (int, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return 0, err
	}
	p.child = append(p.child, r)
	p.writers, p.content = append(p.writers, w), append(p.content, b)
	return 2 + len(p.child), nil
}

// info adds the pipe bwrap writes its status to and returns its fd there.
func (p *pipes) info() (int, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return 0, err
	}
	p.child = append(p.child, w)
	p.status = r
	return 2 + len(p.child), nil
}

// started closes the child's ends, which bwrap now holds, and writes the
// data, each pipe in a goroutine of its own since bwrap reads them one
// after another. A bwrap that exits early makes the writes fail; no
// goroutine is left waiting.
func (p *pipes) started() {
	for _, f := range p.child {
		f.Close()
	}
	for i, w := range p.writers {
		go func(w *os.File, b []byte) {
			_, _ = w.Write(b)
			w.Close()
		}(w, p.content[i])
	}
}

// childPID reads the sandbox's first process, as the machine sees it,
// from bwrap's status; it fails when bwrap exits before its sandbox runs.
func (p *pipes) childPID() (int, error) {
	defer p.status.Close()
	var info struct {
		ChildPID int `json:"child-pid"`
	}
	if err := json.NewDecoder(io.LimitReader(p.status, 4096)).Decode(&info); err != nil {
		return 0, fmt.Errorf("bwrap's status: %w", err)
	}
	if info.ChildPID <= 0 {
		return 0, fmt.Errorf("bwrap's status names no process")
	}
	return info.ChildPID, nil
}

// close closes every end, for a command that will not start.
func (p *pipes) close() {
	for _, f := range append(p.child, p.writers...) {
		f.Close()
	}
	if p.status != nil {
		p.status.Close()
	}
}
