//go:build !linux

package localapps

import (
	"context"
	"errors"
	"net"
	"os"
)

// sandboxInit: bubblewrap, and with it the sandbox, is Linux's alone.
type sandboxInit struct {
	pid          int
	pidNamespace string
}

func openInit(int) (*sandboxInit, error) { return nil, errors.New("sandboxes run on Linux only") }
func (*sandboxInit) kill()               {}
func (*sandboxInit) close()              {}

func dialSocketIn(context.Context, *os.File, string) (net.Conn, error) {
	return nil, errors.New("sandboxes run on Linux only")
}
