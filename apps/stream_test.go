package apps

import (
	"io"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"
)

// peakHeap samples the heap while f runs and returns its largest growth
// over what was in use before.
func peakHeap(f func()) uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	base, peak := m.HeapAlloc, m.HeapAlloc
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				peak = max(peak, m.HeapAlloc)
			}
		}
	})
	f()
	close(done)
	wg.Wait()
	return peak - base
}

func TestLargeBodiesStreamInBoundedMemory(t *testing.T) {
	const size = 200 << 20
	const bound = 16 << 20
	f := newFixture(t, time.Hour)
	c, res := f.open(t, f.adaToken, "adas-box", "jupyter")
	res.Body.Close()
	base := "http://" + f.host("adas-box", "jupyter")

	grew := peakHeap(func() {
		req, _ := http.NewRequest(http.MethodPut, base+"/upload", io.LimitReader(pattern{}, size))
		req.ContentLength = size
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if string(got) != strconv.Itoa(size) {
			t.Fatalf("upstream received %s bytes, want %d", got, size)
		}
	})
	t.Logf("upload of %d MiB: heap grew %d KiB at most", size>>20, grew>>10)
	if grew > bound {
		t.Errorf("upload: heap grew %d MiB, want under %d", grew>>20, bound>>20)
	}

	grew = peakHeap(func() {
		res, err := c.Get(base + "/download?n=" + strconv.Itoa(size))
		if err != nil {
			t.Fatal(err)
		}
		n, err := io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if err != nil || n != size {
			t.Fatalf("downloaded %d bytes, %v; want %d", n, err, size)
		}
	})
	t.Logf("download of %d MiB: heap grew %d KiB at most", size>>20, grew>>10)
	if grew > bound {
		t.Errorf("download: heap grew %d MiB, want under %d", grew>>20, bound>>20)
	}
}
