package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

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
	handler := web.New(web.Config{Static: static.FS, LocalAccounts: true}, p.Service).Handler()
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

// BenchmarkAPIList1000 answers GET /api/v1/computes (50 of 1,000) with a
// token: token lookup, the page query and the JSON written.
func BenchmarkAPIList1000(b *testing.B) {
	p := testportal.OpenWith(b, b.TempDir(), emulator.Options{})
	p.Seed(b, "load", 1000, p.User)
	handler := web.New(web.Config{Static: static.FS, LocalAccounts: true}, p.Service).Handler()
	server := httptest.NewServer(handler)
	defer server.Close()
	created, err := p.Service.CreateTokenFromCLI(p.Ctx, "ada@example.com", instancehub.NewToken{Name: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	req, _ := http.NewRequest("GET", server.URL+"/api/v1/computes?page=3", nil)
	req.Header.Set("Authorization", "Bearer "+created.Secret)
	for b.Loop() {
		resp, err := http.DefaultClient.Do(req)
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
	for _, inst := range instances {
		inst.Access = instancehub.Access{Manage: true, OpenApps: true} // an Owner's own: every button and link
	}
	page := &instancehub.InstancePage{Instances: instances, Total: len(instances), Pages: 1, Query: instancehub.ListQuery{Page: 1}}
	ctx := views.WithPage(p.Ctx, &views.Page{User: p.User, CSRFToken: "token"})
	for b.Loop() {
		if err := views.InstanceList(page).Render(ctx, io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkQuotaPage renders the quota page of 3 regions of 20 families
// each, with instances holding quota, as one loop iteration.
func BenchmarkQuotaPage(b *testing.B) {
	user := &instancehub.User{ID: 1, Name: "Ada", Roles: []instancehub.Role{instancehub.RoleOwner}}
	ctx := views.WithPage(context.Background(), &views.Page{User: user, CSRFToken: "token"})
	var pages []*instancehub.QuotaPage
	for _, region := range []string{"eastus", "westeurope", "southeastasia"} {
		p := &instancehub.QuotaPage{Region: region, CanEdit: true,
			Regions: []instancehub.Region{{Name: "eastus"}, {Name: "westeurope"}, {Name: "southeastasia"}}}
		for f := range 20 {
			family := fmt.Sprintf("standardF%02dFamily", f)
			row := instancehub.QuotaRow{Name: family, Label: instancehub.FamilyLabel(family),
				WorkspaceUsed: f * 4, WorkspaceLimit: 64, SubscriptionUsed: f * 6, SubscriptionLimit: 100}
			for i := range f % 8 {
				row.Holders = append(row.Holders, &instancehub.Instance{Name: fmt.Sprintf("box%d-%da", f, i), VCPUs: 4})
			}
			p.Rows = append(p.Rows, row)
		}
		p.Total = instancehub.QuotaRow{Name: instancehub.TotalRegionalVCPUs, Label: "Total regional vCPUs", WorkspaceLimit: -1, SubscriptionLimit: 500}
		pages = append(pages, p)
	}
	for b.Loop() {
		for _, p := range pages {
			if err := views.QuotaPage(p, "workspace", views.QuotaForm{}).Render(ctx, io.Discard); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkListPageAsBrowsersAsk serves the list page (50 of 1,000) as the
// page cache serves it (hit: the same address again) and as it renders it
// (render: a new address each time), to identity and to a browser's
// Accept-Encoding: go test -bench ListPageAsBrowsersAsk -cpuprofile cpu.out ./web
func BenchmarkListPageAsBrowsersAsk(b *testing.B) {
	p := testportal.OpenWith(b, b.TempDir(), emulator.Options{})
	p.Seed(b, "load", 1000, p.User)
	handler := web.New(web.Config{Static: static.FS, LocalAccounts: true}, p.Service).Handler()
	server := httptest.NewServer(handler)
	defer server.Close()
	s := &site{Portal: p, server: server, client: newClient()}
	signIn(b, s, "ada@example.com")
	s.client.Transport = &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 4}
	for _, tc := range []struct {
		name, encoding string
		render         bool
		least          int64
	}{
		{"hit/identity", "identity", false, 50_000},
		{"hit/gzip", "gzip, br", false, 3_000},
		{"render/identity", "identity", true, 50_000},
		{"render/gzip", "gzip, br", true, 3_000},
		{"search/identity", "identity", true, 50_000},
		{"hit-search/identity", "identity", false, 50_000},
		{"sort/identity", "identity", true, 50_000},
	} {
		b.Run(tc.name, func(b *testing.B) {
			i := 0
			defer cpuPerOp(b)()
			for b.Loop() {
				u := server.URL + "/instances?page=3"
				if tc.render {
					i++
					u += "&_=" + fmt.Sprint(i)
				}
				switch tc.name {
				case "search/identity":
					u = server.URL + "/instances?q=load00&_=" + fmt.Sprint(i)
				case "hit-search/identity":
					u = server.URL + "/instances?q=load00"
				case "sort/identity":
					u = server.URL + "/instances?sort=-name&page=2&_=" + fmt.Sprint(i)
				}
				req, _ := http.NewRequest(http.MethodGet, u, nil)
				req.Header.Set("Accept-Encoding", tc.encoding)
				resp, err := s.client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				n, _ := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || n < tc.least {
					b.Fatalf("status %d, %d bytes", resp.StatusCode, n)
				}
			}
		})
	}
}

// BenchmarkPagesNeverKept serves the pages the page cache does not keep,
// each rendered at every view, signed in, with 1,000 instances: the quota
// page and an instance's details page.
// go test -bench PagesNeverKept -cpuprofile cpu.out ./web
func BenchmarkPagesNeverKept(b *testing.B) {
	p := testportal.OpenWith(b, b.TempDir(), emulator.Options{})
	p.Seed(b, "load", 1000, p.User)
	handler := web.New(web.Config{Static: static.FS, LocalAccounts: true}, p.Service).Handler()
	server := httptest.NewServer(handler)
	defer server.Close()
	s := &site{Portal: p, server: server, client: newClient()}
	signIn(b, s, "ada@example.com")
	s.client.Transport = &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 4}
	for _, page := range []struct {
		name, path string
		least      int64
	}{
		{"quota", "/quota", 10_000},
		{"details", "/instances/load0500", 10_000},
	} {
		b.Run(page.name, func(b *testing.B) {
			for b.Loop() {
				req, _ := http.NewRequest(http.MethodGet, server.URL+page.path, nil)
				req.Header.Set("Accept-Encoding", "identity")
				resp, err := s.client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				n, _ := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || n < page.least {
					b.Fatalf("status %d, %d bytes", resp.StatusCode, n)
				}
			}
		})
	}
}

// cpuPerOp reports the process's CPU time (user and system, the in-process
// client's share included) per iteration as cpu-us/op, when the returned
// function is called after the loop: on a machine shared with other work,
// wall time per op measures the load as much as the code.
func cpuPerOp(b *testing.B) func() {
	start := processCPU(b)
	return func() {
		if b.N > 0 {
			b.ReportMetric(float64((processCPU(b)-start).Microseconds())/float64(b.N), "cpu-us/op")
		}
	}
}

func processCPU(b *testing.B) time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		b.Fatal(err)
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}
