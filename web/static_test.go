package web_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"
	"testing/fstest"

	"github.com/instancehub/instancehub/internal/testportal"
	"github.com/instancehub/instancehub/web"
)

// TestEachServerNamesItsOwnStaticFiles: the version in a page's static
// URLs is its own server's, a hash of the files it serves, whatever other
// servers the process made since (a version kept in a package variable
// was the last server's).
func TestEachServerNamesItsOwnStaticFiles(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	files := func(css string) fstest.MapFS {
		return fstest.MapFS{"css/app.css": {Data: []byte(css)}, "js/app.js": {Data: []byte("// app")}}
	}
	old := web.New(web.Config{Static: files("body { color: black }"), Logger: log, LocalAccounts: true}, p.Service)
	upgraded := web.New(web.Config{Static: files("body { color: navy }"), Logger: log, LocalAccounts: true}, p.Service)
	stylesheet := regexp.MustCompile(`href="/static/css/app\.css\?v=(\w+)"`)
	version := func(s *web.Server) string {
		t.Helper()
		server := httptest.NewServer(s.Handler())
		defer server.Close()
		resp, err := http.Get(server.URL + "/login")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		m := stylesheet.FindSubmatch(body)
		if m == nil {
			t.Fatalf("no stylesheet in the sign-in page:\n%s", body)
		}
		return string(m[1])
	}
	before, after := version(old), version(upgraded)
	if before == after {
		t.Errorf("two servers with different files name them with one version, %s", before)
	}
	if again := version(old); again != before {
		t.Errorf("the first server's version changed from %s to %s", before, again)
	}
}
