package web_test

import "testing"

// TestPagesTravelWithTheirLength: a page, rendered or kept, or the API's
// description, travels whole with its Content-Length, as a static server
// sends a file, not in chunks; compressed, its length is the compressed
// body's or none, never the page's.
func TestPagesTravelWithTheirLength(t *testing.T) {
	get := siteWithInstance(t, "length-box")
	for _, path := range []string{
		"/instances", "/instances", // rendered, then kept
		"/instances?q=length", "/instances/length-box", "/quota?region=eastus", "/api/v1/openapi.json",
	} {
		resp, body := get(path, "identity")
		if resp.ContentLength != int64(len(body)) || len(resp.TransferEncoding) != 0 {
			t.Errorf("%s: Content-Length %d, Transfer-Encoding %q for %d bytes", path, resp.ContentLength, resp.TransferEncoding, len(body))
		}
		resp, zipped := get(path, "gzip, br")
		if resp.Header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("%s: not compressed", path)
		}
		if resp.ContentLength != -1 && resp.ContentLength != int64(len(zipped)) {
			t.Errorf("%s gzipped: Content-Length %d for %d bytes", path, resp.ContentLength, len(zipped))
		}
	}
}
