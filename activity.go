package instancehub

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Activity is what is known of the use of an instance's applications: what
// the details page shows and what idle shutdown decides on.
type Activity struct {
	// At is the last time a person used the applications: a page load, a
	// change or a message on a WebSocket through the gateway, or Jupyter's
	// own last activity. Zero when nobody ever has.
	At time.Time
	// As Jupyter counts them: its kernels, those busy now, the open kernel
	// connections (a notebook open in a tab) and the open terminals.
	Kernels, BusyKernels, Connections, Terminals int
}

// InUse tells whether the applications are working or open right now,
// whatever the time of the last activity: a computation running, a notebook
// connected to its kernel, or a terminal open. Idle shutdown never stops an
// instance in use.
func (a Activity) InUse() bool {
	return a.BusyKernels > 0 || a.Connections > 0 || a.Terminals > 0
}

// Loss says what stopping the applications now would end, for a Stop,
// Restart or Delete to ask first: "1 notebook connected: unsaved changes
// will be lost.", with the open terminals too; "" when no notebook is
// connected to its kernel and no terminal is open.
func (a Activity) Loss() string {
	var parts []string
	if a.Connections > 0 {
		parts = append(parts, count(a.Connections, "notebook connected", "notebooks connected"))
	}
	if a.Terminals > 0 {
		parts = append(parts, count(a.Terminals, "terminal open", "terminals open"))
	}
	if len(parts) == 0 {
		return ""
	}
	return strings.Join(parts, " and ") + ": unsaved changes will be lost."
}

func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// ApplicationProbe asks the applications of a running instance how they are
// used.
type ApplicationProbe interface {
	// Probe returns the Activity that inst's Jupyter reports.
	// EUNAVAILABLE when its applications are not running or cannot be
	// reached (offline, a server never opened: nobody is using it).
	Probe(ctx context.Context, inst *Instance) (Activity, error)
}
