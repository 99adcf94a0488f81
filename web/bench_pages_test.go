package web_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/azure/emulator"
	"github.com/instancehub/instancehub/internal/testportal"
	"github.com/instancehub/instancehub/static"
	"github.com/instancehub/instancehub/web"
)

// BenchmarkPagesAsBrowsersAsk serves the details page and the quota page,
// signed in as a Contributor, with 1,000 instances, through the whole server (session,
// authorization, the store, the page, compression), each at a new address
// as make bench-http asks for them, to identity and to a browser's
// Accept-Encoding; and, beside each, a plain Go server sending the bytes
// of its first answer (make bench-http's ceiling). cpu-ns/op is the CPU
// the process spent per request, client included: what a view costs on a
// loaded machine, where ns/op is not.
// go test -run '^$' -bench PagesAsBrowsersAsk -cpu 1 -cpuprofile cpu.out ./web
func BenchmarkPagesAsBrowsersAsk(b *testing.B) {
	p := testportal.OpenWith(b, b.TempDir(), emulator.Options{})
	p.Seed(b, "load", 1000, p.User)
	handler := web.New(web.Config{Static: static.FS, LocalAccounts: true}, p.Service).Handler()
	server := httptest.NewServer(handler)
	defer server.Close()
	s := &site{Portal: p, server: server, client: newClient()}
	// A Contributor, as make bench-http's people are.
	p.EnsureUser(b, "bo@example.com", "Bo Contributor", instancehub.RoleContributor)
	signIn(b, s, "bo@example.com")
	s.client.Transport = &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 4}
	get := func(b *testing.B, url, accept string) (*http.Response, []byte) {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		req.Header.Set("Accept-Encoding", accept)
		resp, err := s.client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("GET %s: status %d", url, resp.StatusCode)
		}
		return resp, body
	}
	for _, page := range []struct{ name, path string }{
		{"details", "/instances/load0500"},
		{"quota", "/quota"},
	} {
		// zstd is what Chromium asks ("gzip, deflate, br, zstd"), and
		// compress, preferring it, sends.
		for _, enc := range []struct{ name, accept string }{{"identity", "identity"}, {"gzip", "gzip, br"}, {"zstd", "gzip, deflate, br, zstd"}} {
			first, body := get(b, server.URL+page.path, enc.accept)
			b.Run(page.name+"/"+enc.name, func(b *testing.B) {
				i := 0
				report := cpuPerOp(b)
				for b.Loop() {
					i++
					_, got := get(b, fmt.Sprintf("%s%s?_=%d", server.URL, page.path, i), enc.accept)
					if len(got) < len(body)/2 {
						b.Fatalf("%d bytes, first %d", len(got), len(body))
					}
				}
				report()
			})
			b.Run(page.name+"/"+enc.name+"/static", func(b *testing.B) {
				static := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", first.Header.Get("Content-Type"))
					if e := first.Header.Get("Content-Encoding"); e != "" {
						w.Header().Set("Content-Encoding", e)
					}
					w.Write(body)
				}))
				defer static.Close()
				report := cpuPerOp(b)
				for b.Loop() {
					get(b, static.URL+page.path, enc.accept)
				}
				report()
			})
		}
	}
}
