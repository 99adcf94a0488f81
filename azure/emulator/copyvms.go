package emulator

import (
	"bytes"
	"fmt"
	"time"
)

// CopyVMs adds a VM for each of names, a copy of the VM named like: its body
// with like's name replaced by the copy's wherever it appears (ID, computer
// name, tags, disk and interface names), in like's state, with no network
// interface of its own. They go straight into the model and are saved in one
// transaction, without a request: for benchmarks of the portal's Refresh at
// 100,000 VMs, which creating through the clients would take many minutes
// to set up. A name already taken is an error.
func (e *Emulator) CopyVMs(like string, names []string) error {
	return e.withCloud(func(c *cloud, now time.Time) error {
		src := c.get(typeVM, like)
		if src == nil {
			return fmt.Errorf("emulator: copy VMs: no VM %s", like)
		}
		body, err := c.bodyOf(src)
		if err != nil {
			return err
		}
		old := []byte(like)
		for _, name := range names {
			if c.get(typeVM, name) != nil {
				return fmt.Errorf("emulator: copy VMs: %s exists", name)
			}
			r := &resource{Type: typeVM, Name: name, Location: src.Location, State: src.State, Power: src.Power,
				Changed: now, Size: src.Size, Ops: operations{}}
			c.put(r, bytes.ReplaceAll(body, old, []byte(name)), nil)
		}
		return nil
	})
}
