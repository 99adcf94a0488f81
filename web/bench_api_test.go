package web_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/azure/emulator"
	"github.com/instancehub/instancehub/internal/testportal"
	"github.com/instancehub/instancehub/static"
	"github.com/instancehub/instancehub/web"
)

// BenchmarkListPageVersusAPI serves the same 50 of 1,000 instances as the
// list page (with the session cookie) and as the API's JSON (with a token),
// uncompressed as wrk asks, on one portal: the API should be the quicker.
func BenchmarkListPageVersusAPI(b *testing.B) {
	p := testportal.OpenWith(b, b.TempDir(), emulator.Options{})
	p.Seed(b, "load", 1000, p.User)
	handler := web.New(web.Config{Static: static.FS, LocalAccounts: true}, p.Service).Handler()
	server := httptest.NewServer(handler)
	defer server.Close()
	s := &site{Portal: p, server: server, client: newClient()}
	signIn(b, s, "ada@example.com")
	created, _ := p.Service.CreateTokenFromCLI(p.Ctx, "ada@example.com", instancehub.NewToken{Name: "bench"})
	html, _ := http.NewRequest("GET", server.URL+"/instances?page=3", nil)
	html.Header.Set("Accept-Encoding", "identity")
	u, _ := http.NewRequest("GET", server.URL, nil)
	for _, c := range s.client.Jar.Cookies(u.URL) {
		if c.Name == "instancehub_session" {
			html.AddCookie(c)
		}
	}
	api, _ := http.NewRequest("GET", server.URL+"/api/v1/computes?page=3", nil)
	api.Header.Set("Accept-Encoding", "identity")
	api.Header.Set("Authorization", "Bearer "+created.Secret)
	for _, c := range []struct {
		name string
		req  *http.Request
		cl   *http.Client
	}{{"html", html, http.DefaultClient}, {"api", api, http.DefaultClient}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				resp, err := c.cl.Do(c.req)
				if err != nil {
					b.Fatal(err)
				}
				n, _ := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || n < 50_000 {
					b.Fatalf("status %d, %d bytes", resp.StatusCode, n)
				}
			}
		})
	}
}

// BenchmarkAPIListRender asks the API for page 3 of 1,000 instances at a
// new address each time, so that no kept answer serves it: the answer is
// built anew each request, as bench-api's render row asks.
func BenchmarkAPIListRender(b *testing.B) {
	p := testportal.OpenWith(b, b.TempDir(), emulator.Options{})
	p.Seed(b, "load", 1000, p.User)
	handler := web.New(web.Config{Static: static.FS, LocalAccounts: true}, p.Service).Handler()
	created, err := p.Service.CreateTokenFromCLI(p.Ctx, "ada@example.com", instancehub.NewToken{Name: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	i := 0
	report := cpuPerOp(b)
	for b.Loop() {
		i++
		req := httptest.NewRequest("GET", "/api/v1/computes?page=3&_="+strconv.Itoa(i), nil)
		req.Header.Set("Authorization", "Bearer "+created.Secret)
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || rec.Body.Len() < 20_000 {
			b.Fatalf("status %d, %d bytes", rec.Code, rec.Body.Len())
		}
	}
	report()
}
