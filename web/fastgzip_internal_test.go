package web

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/klauspost/compress/gzip"
)

// TestFastCompressionBySize: a page rendered afresh is compressed
// statelessly up to the stateless block (32 KB), and past it at gzip's
// fastest level (its header's XFL is 4), whose matches reach back 32 KB
// where the stateless blocks' reach 8 KB; either way it decodes to the
// page.
func TestFastCompressionBySize(t *testing.T) {
	for _, n := range []int{2 << 10, maxStatelessBody, maxStatelessBody + 1, 64 << 10} {
		var page bytes.Buffer
		for i := 0; page.Len() < n; i++ {
			fmt.Fprintf(&page, `<tr><td>box-%d</td><td class="state">Running</td></tr>`, i*7919%1000)
		}
		body := page.Bytes()[:n]
		req := httptest.NewRequest(http.MethodGet, "/instances", nil)
		req.Header.Set("Accept-Encoding", "gzip")
		e := encode(req, http.StatusOK, "", body, true)
		if e.encoding != "gzip" || len(e.body) < 10 {
			t.Fatalf("%d bytes: encoded as %q, %d bytes", n, e.encoding, len(e.body))
		}
		if fastest := e.body[8] == 4; fastest != (n > maxStatelessBody) {
			t.Errorf("%d bytes: XFL %d", n, e.body[8])
		}
		zr, err := gzip.NewReader(bytes.NewReader(e.body))
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(zr)
		if err != nil || !bytes.Equal(got, body) {
			t.Fatalf("%d bytes: decoded %d bytes (%v), not the page", n, len(got), err)
		}
	}
}
