package web_test

import (
	"bytes"
	"io"
	"net/http"
	"testing"

	"github.com/klauspost/compress/gzip"
)

// TestPagesOfEveryViewCompressFast: the details page and the quota page,
// rendered at every view, travel gzipped by compress's stateless deflate
// (both are under its block of 32 KB), whole with their length, once
// named in Vary, with BREACH's jitter, and decode to the page sent to a
// client that takes it as it is.
func TestPagesOfEveryViewCompressFast(t *testing.T) {
	get := siteWithInstance(t, "fast-box")
	for _, path := range []string{"/instances/fast-box", "/quota?region=eastus"} {
		_, plain := get(path, "identity")
		resp, zipped := get(path, "gzip, br")
		if e := resp.Header.Get("Content-Encoding"); e != "gzip" {
			t.Fatalf("%s: Content-Encoding %q", path, e)
		}
		if vary := resp.Header.Values("Vary"); len(vary) != 1 || vary[0] != "Accept-Encoding" {
			t.Errorf("%s: Vary %q, want Accept-Encoding once", path, vary)
		}
		// Sent whole with its length, as a static server sends a file.
		if resp.ContentLength != int64(len(zipped)) || len(resp.TransferEncoding) != 0 {
			t.Errorf("%s: Content-Length %d, Transfer-Encoding %q, for %d bytes; want the length", path, resp.ContentLength, resp.TransferEncoding, len(zipped))
		}
		// The deflate stream and trailer after the header (whose comment
		// is the jitter) are those of the page compressed statelessly.
		var want bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&want, gzip.StatelessCompression)
		_, _ = zw.Write(plain)
		_ = zw.Close()
		if !bytes.HasSuffix(zipped, want.Bytes()[10:]) {
			t.Errorf("%s: not compressed statelessly (%d bytes, stateless %d)", path, len(zipped), want.Len())
		}
		zr, err := gzip.NewReader(bytes.NewReader(zipped))
		if err != nil {
			t.Fatal(err)
		}
		if zr.Comment == "" {
			t.Errorf("%s: no jitter in the gzip header", path)
		}
		got, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, plain) {
			t.Errorf("%s: the gzipped page (%d bytes) is not the page (%d bytes)", path, len(got), len(plain))
		}
	}
}

// siteWithInstance signs Ada in on a new site with a running instance
// name, and returns a GET of a path that asks for an encoding (accept)
// and takes the answer as it travels, checked to be 200.
func siteWithInstance(t *testing.T, name string) func(path, accept string) (*http.Response, []byte) {
	t.Helper()
	s := newSite(t, 0)
	s.signIn(t, "ada@example.com")
	wantStatus(t, s.create(t, name, nil), http.StatusSeeOther)
	s.waitRunning(t, name)
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
	return get
}
