package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/azure/emulator"
	"github.com/instancehub/instancehub/internal/testportal"
	"github.com/instancehub/instancehub/static"
	"github.com/instancehub/instancehub/views"
	"github.com/instancehub/instancehub/web"
)

// BenchmarkListPage1000 serves the list page, signed in, with 1,000
// instances: session lookup, the page query and the whole page rendered.
func BenchmarkListPage1000(b *testing.B) {
	p := testportal.OpenWith(b, b.TempDir(), emulator.Options{})
	p.Seed(b, "load", 1000, p.User)
	handler := web.New(web.Config{Static: static.FS, LocalAccounts: true}, p.Service, p.DB).Handler()
	server := httptest.NewServer(handler)
	defer server.Close()
	s := &site{Portal: p, server: server, client: newClient()}
	signIn(b, s, "ada@example.com")
	for b.Loop() {
		resp, err := s.client.Get(server.URL + "/instances?page=3")
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || n < 50_000 {
			b.Fatalf("status %d, %d bytes", resp.StatusCode, n)
		}
	}
}

// BenchmarkRenderRows1000 renders 1,000 rows with templ alone.
func BenchmarkRenderRows1000(b *testing.B) {
	p := testportal.OpenWith(b, b.TempDir(), emulator.Options{})
	p.Seed(b, "load", 1000, p.User)
	instances, _, err := p.DB.FindInstances(context.Background(), instancehub.InstanceFilter{})
	if err != nil {
		b.Fatal(err)
	}
	page := &instancehub.InstancePage{Instances: instances, Total: len(instances), Pages: 1, Query: instancehub.ListQuery{Page: 1}}
	ctx := views.WithPage(p.Ctx, &views.Page{User: p.User, CSRFToken: "token"})
	for b.Loop() {
		if err := views.InstanceList(page).Render(ctx, io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
