package azure

import (
	"testing"
	"time"
)

// TestCatalogKeepsNoLoadAChangeOverlapped: a read of Azure begun before the
// portal changed what it reads (a usage read while a delete ends)
// may hold the value from before; it is answered but not kept, so the next
// read does not miss the change for the entry's whole lifetime.
func TestCatalogKeepsNoLoadAChangeOverlapped(t *testing.T) {
	for name, change := range map[string]func(c *catalog){
		"clear":  func(c *catalog) { c.clear() },
		"forget": func(c *catalog) { c.forget("eastus") },
	} {
		t.Run(name, func(t *testing.T) {
			c := &catalog{ttl: time.Minute}
			azure := 10
			stale, _ := cached(c, "eastus", func() (int, error) {
				v := azure
				azure += 4 // the change lands while the read is on its way back
				change(c)
				return v, nil
			})
			fresh, _ := cached(c, "eastus", func() (int, error) { return azure, nil })
			if stale != 10 || fresh != 14 {
				t.Fatalf("the overlapped read answered %d and then %d was read, want 10 and then 14 (the stale 10 not kept)", stale, fresh)
			}
		})
	}
}
