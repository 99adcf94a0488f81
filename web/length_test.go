package web_test

import (
	"io"
	"net/http"
	"testing"
)

// TestPagesTravelWithTheirLength: a page, rendered or kept, travels whole
// with its Content-Length, as a static server sends a file, not in
// chunks; compressed, its length is the compressed body's or none, never
// the page's.
func TestPagesTravelWithTheirLength(t *testing.T) {
	s := newSite(t, 0)
	s.signIn(t, "ada@example.com")
	wantStatus(t, s.create(t, "length-box", nil), http.StatusSeeOther)
	s.waitRunning(t, "length-box")
	raw := &http.Client{Jar: s.client.Jar, Transport: &http.Transport{DisableCompression: true}}
	get := func(path, accept string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, s.server.URL+path, nil)
		req.Header.Set("Accept-Encoding", accept)
		resp, err := raw.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: status %d", path, resp.StatusCode)
		}
		return resp, body
	}
	get("/instances", "identity") // takes the create's notice
	for _, path := range []string{
		"/instances", "/instances", // rendered, then kept
		"/instances?q=length", "/instances/length-box", "/quota?region=eastus",
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
