package web_test

import (
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/azure/emulator"
	"github.com/instancehub/instancehub/internal/testportal"
	"github.com/instancehub/instancehub/static"
	"github.com/instancehub/instancehub/web"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// TestAFullDiskIsSaidSo: the portal's database at its largest answers
// writes with a real SQLITE_FULL (max_page_count, which a disk that is full
// amounts to for SQLite); a page that needs to save something then says
// the portal's disk is full (507), as does the API, and /readyz answers 503
// with that reason rather than 200; once room is made, the portal is ready
// again, writes work, and the creates that were under way end.
func TestAFullDiskIsSaidSo(t *testing.T) {
	const maxSize = 4 << 20
	dir := t.TempDir()
	logs := &jsonLog{}
	log := slog.New(instancehub.WithRequestIDs(slog.NewJSONHandler(logs, nil)))
	p := testportal.OpenWired(t, dir, emulator.Options{}, testportal.Wiring{Logger: log, MaxDatabaseSize: maxSize})
	srv := web.New(web.Config{Workspace: "Test workspace", Static: static.FS, Logger: log, LocalAccounts: true}, p.Service)
	server := httptest.NewServer(srv.Handler())
	t.Cleanup(server.Close)
	s := &site{Portal: p, server: server, client: newClient()}
	s.signIn(t, "ada@example.com")
	a := apiClient{s, newToken(t, s, "ada@example.com", instancehub.NewToken{})}
	wantStatus(t, s.get(t, "/readyz"), http.StatusOK)

	// Another connection fills the database up to the same size.
	filler, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "instancehub.db")+
		fmt.Sprintf("?_pragma=busy_timeout(5000)&_pragma=max_page_count(%d)", maxSize/4096))
	if err != nil {
		t.Fatal(err)
	}
	defer filler.Close()
	fill(t, filler)

	// Creates through the form, each with a long description, until one
	// needs a page the database cannot have.
	var full *response
	made := 0
	for i := 0; i < 20 && full == nil; i++ {
		r := s.create(t, fullName(i), url.Values{"vm_size": {"Standard_DS1_v2"}, "description": {strings.Repeat("d", instancehub.MaxDescriptionLength)}})
		switch r.StatusCode {
		case http.StatusSeeOther:
			made++
		case http.StatusInsufficientStorage:
			full = r
		default:
			t.Fatalf("create %d: %d: %s", i, r.StatusCode, text(r.doc.Find(".field-error, [role=alert], .error")))
		}
	}
	if full == nil {
		t.Fatal("20 creates found room in a full database")
	}
	if title := text(full.doc.Find("h1")); title != "The portal's disk is full" || !strings.Contains(full.body, "The portal&#39;s disk is full, so nothing can be saved") {
		t.Errorf("the page: %q\n%s", title, truncate(full.body))
	}
	r := s.get(t, "/readyz")
	wantStatus(t, r, http.StatusServiceUnavailable)
	if !strings.Contains(r.body, "The portal's disk is full") {
		t.Errorf("/readyz: %s", r.body)
	}
	// A row larger than a page needs new pages: the API says so too.
	tags := make([]string, 20)
	for i := range tags {
		tags[i] = fmt.Sprintf("%s%02d: %s", strings.Repeat("k", 100), i, strings.Repeat("v", 250))
	}
	file := "name: full-api\ntype: computeinstance\nsize: STANDARD_DS1_V2\nlocation: eastus\ntags: {" + strings.Join(tags, ", ") + "}\n"
	r = a.call(t, "POST", "/api/v1/computes", "application/yaml", file)
	wantStatus(t, r, http.StatusInsufficientStorage)
	if e := apiErrorOf(t, r); e.Error.Code != instancehub.EFULL || !strings.Contains(e.Error.Message, "The portal's disk is full") {
		t.Errorf("the API's error: %+v", e.Error)
	}
	if lines := logs.lines(t); !strings.Contains(fmt.Sprint(lines), "request failed: the portal's disk is full") {
		t.Error("the log does not say the disk is full")
	}

	// Room is made.
	if _, err := filler.Exec(`DROP TABLE filler`); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, s.get(t, "/readyz"), http.StatusOK)
	r = a.call(t, "POST", "/api/v1/computes", "application/yaml", file)
	wantStatus(t, r, http.StatusAccepted)
	for i := range made {
		s.waitRunning(t, fullName(i))
	}
	s.waitRunning(t, "full-api")
}

// fill writes into a table of its own until the database finds no room:
// SQLITE_FULL, for real.
func fill(t *testing.T, db *sql.DB) {
	t.Helper()
	if _, err := db.Exec(`CREATE TABLE filler (b BLOB)`); err != nil {
		t.Fatal(err)
	}
	for rows := 256; rows > 0; {
		_, err := db.Exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
			INSERT INTO filler SELECT randomblob(1000) FROM n`, rows)
		var e *sqlite.Error
		switch {
		case err == nil:
		case errors.As(err, &e) && e.Code()&0xff == sqlite3.SQLITE_FULL:
			rows /= 2
		default:
			t.Fatal(err)
		}
	}
}

// fullName names the ith instance made while the disk fills.
func fullName(i int) string { return "full-" + string(rune('a'+i)) }
