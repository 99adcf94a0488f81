package web_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/instancehub/instancehub/internal/testportal"
	"github.com/instancehub/instancehub/static"
	"github.com/instancehub/instancehub/web"
)

// FuzzListQuery sends any query string to the list page, as a signed-in
// user, whole page and htmx fragment: it must answer 200 and never fail.
func FuzzListQuery(f *testing.F) {
	for _, seed := range []string{
		"", "q=gpu&sort=-name&page=2&mine=1", "page=-1", "page=99999999999999999999", "sort=%00",
		"q=" + strings.Repeat("%25", 300), "q=%E2%80%AE&sort=name", "page=1&page=2&q=a&q=b", "%zz", "q=';--",
	} {
		f.Add(seed)
	}
	p := testportal.Open(f, f.TempDir(), 0)
	p.Seed(f, "fuzz", 3, p.User)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	handler := web.New(web.Config{Static: static.FS, Logger: log, LocalAccounts: true}, p.Service).Handler()
	form := url.Values{"email": {"ada@example.com"}, "password": {testportal.Password}}
	req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, req)
	cookies := rec.Result().Cookies()
	if len(cookies) == 0 {
		f.Fatalf("sign-in: %d", rec.Code)
	}
	f.Fuzz(func(t *testing.T, query string) {
		if _, err := url.ParseRequestURI("/instances?" + query); err != nil || strings.ContainsAny(query, " #") {
			return // not a query string a browser sends
		}
		for _, htmx := range []bool{false, true} {
			req := httptest.NewRequest(http.MethodGet, "/instances?"+query, nil)
			for _, c := range cookies {
				req.AddCookie(c)
			}
			if htmx {
				req.Header.Set("HX-Request", "true")
				req.Header.Set("HX-Target", "instance-list")
			}
			rec := httptest.NewRecorder()
			handler.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				t.Fatalf("GET /instances?%s (htmx %v): %d\n%.500s", query, htmx, rec.Code, rec.Body.String())
			}
		}
	})
}
