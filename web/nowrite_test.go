package web_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/instancehub/instancehub"
	_ "modernc.org/sqlite"
)

// TestPageViewsWriteNothing: viewing pages writes nothing to SQLite (the
// session's last-seen time at most once a minute, and not within it), so
// that a department polling the list all day costs no writes. The audit
// log is the one page whose reading is recorded, by design: reviewers want
// to know who looked. PRAGMA
// data_version, read on a connection of its own, changes whenever another
// connection commits.
func TestPageViewsWriteNothing(t *testing.T) {
	s := newSite(t, 0)
	s.signIn(t, "ada@example.com")
	s.create(t, "ada-box", nil)
	s.waitRunning(t, "ada-box")
	s.get(t, "/instances") // the first view may note the session's use
	api := apiClient{s, newToken(t, s, "ada@example.com", instancehub.NewToken{})}
	api.get(t, "/api/v1/computes") // and the first call the token's first use

	watch, err := sql.Open("sqlite", "file:"+filepath.Join(s.Dir, "instancehub.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer watch.Close()
	watch.SetMaxOpenConns(1) // data_version is per connection
	version := func() int64 {
		var v int64
		if err := watch.QueryRowContext(context.Background(), "PRAGMA data_version").Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	before := version()
	for _, path := range []string{"/instances", "/instances?q=ada&sort=name", "/instances/ada-box", "/instances/ada-box/row",
		"/instances/new", "/quota", "/access", "/instances?page=2"} {
		v := version()
		for range 3 {
			wantStatus(t, s.get(t, path), 200)
		}
		if w := version(); w != v {
			t.Errorf("GET %s wrote to the database", path)
		}
	}
	for _, path := range []string{"/api/v1/computes", "/api/v1/computes/ada-box", "/api/v1/computes/ada-box/operations", "/api/v1/quotas"} {
		v := version()
		for range 3 {
			wantStatus(t, api.get(t, path), 200)
		}
		if w := version(); w != v {
			t.Errorf("GET %s wrote to the database", path)
		}
	}
	if after := version(); after != before {
		t.Fatalf("page views wrote to the database (data_version %d → %d)", before, after)
	}
}
