package web_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/azure/emulator"
	"github.com/instancehub/instancehub/internal/testportal"
	"github.com/instancehub/instancehub/static"
	"github.com/instancehub/instancehub/web"
)

// jsonLog keeps what a portal logs as JSON lines, as --log-format json
// writes them.
type jsonLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *jsonLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// lines returns every line logged, each parsed.
func (l *jsonLog) lines(t *testing.T) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var lines []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(l.buf.Bytes()))
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("a log line that is not JSON: %s", sc.Text())
		}
		lines = append(lines, line)
	}
	return lines
}

// newLoggedSite is a site whose portal, engine included, logs JSON lines
// into the returned log, at debug level.
func newLoggedSite(t *testing.T) (*site, *jsonLog) {
	t.Helper()
	logs := &jsonLog{}
	log := slog.New(instancehub.WithRequestIDs(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	dir := t.TempDir()
	p := testportal.OpenWired(t, dir, emulator.Options{}, testportal.Wiring{Logger: log})
	srv := web.New(web.Config{Workspace: "Test workspace", Static: static.FS, Logger: log, LocalAccounts: true}, p.Service)
	server := httptest.NewServer(srv.Handler())
	t.Cleanup(server.Close)
	return &site{Portal: p, server: server, client: newClient()}, logs
}

var madeRequestID = regexp.MustCompile(`^[0-9a-f]{32}$`)

// TestEveryRequestIsNamed: every answer carries X-Request-Id, a new one
// unless a well-formed, short one came with the request; the lines logged
// for a request, and for the operation it starts, name it; an internal
// error's page gives it to quote.
func TestEveryRequestIsNamed(t *testing.T) {
	s, logs := newLoggedSite(t)
	seen := map[string]bool{}
	for _, path := range []string{"/login", "/healthz", "/readyz", "/static/app.css", "/nowhere", "/api/v1/computes"} {
		r := s.get(t, path)
		id := r.Header.Get("X-Request-Id")
		if !madeRequestID.MatchString(id) || seen[id] {
			t.Errorf("GET %s: X-Request-Id %q, want a new one", path, id)
		}
		seen[id] = true
	}
	for sent, kept := range map[string]bool{
		"7f3c2a9e-4b1d-4e8a-9c6f-0d2e5b7a1c3e": true, // a UUID
		"req_42.a:b":                           true,
		strings.Repeat("a", 64):                true,
		strings.Repeat("a", 65):                false,
		"two words":                            false,
		`"}{"admin":true`:                      false,
		"<script>":                             false,
		"é":                                    false,
	} {
		got := s.get(t, "/login", "X-Request-Id", sent).Header.Get("X-Request-Id")
		if kept && got != sent || !kept && !madeRequestID.MatchString(got) {
			t.Errorf("sent %q, answered %q", sent, got)
		}
	}

	s.signIn(t, "ada@example.com")
	const create = "create-ada-ws-1"
	r := s.post(t, "/instances", url.Values{"name": {"ada-ws"}, "region": {"eastus"}, "vm_size": {"Standard_DS3_v2"}},
		"X-Request-Id", create)
	if r.StatusCode >= 400 || r.Header.Get("X-Request-Id") != create {
		t.Fatalf("create: %d, X-Request-Id %q", r.StatusCode, r.Header.Get("X-Request-Id"))
	}
	inst := s.waitRunning(t, "ada-ws")
	op := inst.LastOperation
	var request, operation int
	for _, line := range logs.lines(t) {
		switch {
		case line["msg"] == "request" && line["path"] == "/instances" && line["method"] == "POST":
			request++
			if line[instancehub.RequestIDKey] != create {
				t.Errorf("the request's line names %v: %v", line[instancehub.RequestIDKey], line)
			}
		case line["op"] == float64(op.ID):
			operation++
			if line[instancehub.RequestIDKey] != create {
				t.Errorf("the operation's line names %v: %v", line[instancehub.RequestIDKey], line)
			}
		}
	}
	if request != 1 || operation == 0 {
		t.Errorf("%d lines of the request, %d of its operation; want 1 and some", request, operation)
	}

	// An internal error: the database is gone.
	if err := s.DB.Close(); err != nil {
		t.Fatal(err)
	}
	const broken = "broken-1"
	r = s.get(t, "/instances", "X-Request-Id", broken)
	if r.StatusCode != http.StatusInternalServerError || !strings.Contains(r.body, "Its request ID is "+broken+".") {
		t.Errorf("the error page: %d, %s", r.StatusCode, truncate(r.body))
	}
	failed := 0
	for _, line := range logs.lines(t) {
		if line["msg"] == "request failed" && line[instancehub.RequestIDKey] == broken {
			failed++
		}
	}
	if failed != 1 {
		t.Errorf("%d lines say the request %s failed, want 1", failed, broken)
	}
}
