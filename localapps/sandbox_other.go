//go:build !linux

package localapps

import "errors"

// sandboxInit: bubblewrap, and with it the sandbox, is Linux's alone.
type sandboxInit struct {
	pid          int
	pidNamespace string
}

func openInit(int) (*sandboxInit, error) { return nil, errors.New("sandboxes run on Linux only") }
func (*sandboxInit) kill()               {}
func (*sandboxInit) close()              {}
