package web_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/internal/testportal"
	"github.com/instancehub/instancehub/static"
	"github.com/instancehub/instancehub/views"
	"github.com/instancehub/instancehub/web"
)

// stream is an open /events answer, read an event at a time.
type stream struct {
	resp *http.Response
	read *bufio.Reader
}

func openStream(t *testing.T, s *site, c *http.Client) *stream {
	t.Helper()
	return openStreamAt(t, s, c, "/events")
}

func openStreamAt(t *testing.T, s *site, c *http.Client, path string) *stream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.server.URL+path, nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("GET /events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return &stream{resp: resp, read: bufio.NewReader(resp.Body)}
}

// next returns the next message: its event's name ("" for a comment or the
// retry) and its lines. io.EOF once the portal ended the stream.
func (st *stream) next() (string, []string, error) {
	var lines []string
	event := ""
	for {
		line, err := st.read.ReadString('\n')
		if err != nil {
			return "", nil, err
		}
		line = strings.TrimSuffix(line, "\n")
		if line == "" {
			return event, lines, nil
		}
		if name, ok := strings.CutPrefix(line, "event: "); ok {
			event = name
		}
		lines = append(lines, line)
	}
}

// TestEventsPushTheChanges: an open stream hears each change of an
// instance the engine commits, by its event name, and the row fetched on
// each reaches Running: no polling.
func TestEventsPushTheChanges(t *testing.T) {
	s := newSite(t, 0)
	s.signIn(t, "ada@example.com")
	st := openStream(t, s, s.client)
	if _, lines, err := st.next(); err != nil || len(lines) == 0 || lines[0] != "retry: 1000" {
		t.Fatalf("the stream opens with %q, %v", lines, err)
	}
	wantStatus(t, s.create(t, "pushed-box", nil), http.StatusSeeOther)
	inst, err := s.DB.FindInstanceByName(context.Background(), "pushed-box")
	if err != nil {
		t.Fatal(err)
	}
	want := views.InstanceEvent
	var heard []string
	for {
		event, lines, err := st.next()
		if err != nil {
			t.Fatalf("the stream ended after %v: %v", heard, err)
		}
		if event == "" {
			continue
		}
		if event != want || lines[1] != fmt.Sprintf("data: %d", inst.ID) {
			t.Fatalf("heard %q %q, want %s", event, lines, want)
		}
		heard = append(heard, event)
		row := s.get(t, "/instances/pushed-box/row", "HX-Request", "true")
		if text(row.doc.Find(`[data-testid="state"]`)) == "Running" {
			break
		}
	}
	if len(heard) < 2 { // the create and its end at least
		t.Errorf("heard %v", heard)
	}
}

// TestEventsAreForViewersOnly: signed out, the stream is the sign-in page's
// redirect; without a role, a refusal; neither hears anything.
func TestEventsAreForViewersOnly(t *testing.T) {
	s := newSite(t, 0)
	r := s.get(t, "/events")
	wantStatus(t, r, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); !strings.HasPrefix(loc, "/login") {
		t.Errorf("signed out: sent to %q", loc)
	}
	s.EnsureUser(t, "nobody@example.com", "No Role")
	s.signIn(t, "nobody@example.com")
	r = s.get(t, "/events")
	wantStatus(t, r, http.StatusForbidden)
	if s.Hub.Len() != 0 {
		t.Errorf("%d streams open after refusals", s.Hub.Len())
	}
}

// TestEventsHeartbeatAndShutdown: an idle stream sends heartbeats, and the
// hub's close (Main's Close does it first) ends it.
func TestEventsHeartbeatAndShutdown(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0)
	srv := web.New(web.Config{Static: static.FS, LocalAccounts: true, StreamHeartbeat: 10 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, p.Service)
	server := httptest.NewServer(srv.Handler())
	t.Cleanup(server.Close)
	s := &site{Portal: p, server: server, client: newClient()}
	s.signIn(t, "ada@example.com")
	st := openStream(t, s, s.client)
	for range 3 {
		_, lines, err := st.next()
		if err != nil {
			t.Fatal(err)
		}
		if lines[len(lines)-1] != ": heartbeat" && lines[0] != "retry: 1000" {
			t.Fatalf("an idle stream sent %q", lines)
		}
	}
	if p.Hub.Len() != 1 {
		t.Errorf("%d streams open, want 1", p.Hub.Len())
	}
	p.Hub.Close()
	for {
		if _, _, err := st.next(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	// After the close, a page that reconnects is told the portal is going.
	req, _ := http.NewRequest(http.MethodGet, server.URL+"/events", nil)
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("a stream opened on a closed hub: %d", resp.StatusCode)
	}
}

// TestEventsTellWhatChangedSinceThePage: a stream that says how long ago
// its page asked for itself (age=, in ms) hears first the changes made
// since, once per instance, before anything new; one asking further back
// than the portal keeps is told to fetch everything again (resync).
func TestEventsTellWhatChangedSinceThePage(t *testing.T) {
	s := newSite(t, 0)
	var offset atomic.Int64
	start := time.Now()
	s.Hub.Now = func() time.Time { return start.Add(time.Duration(offset.Load())) }
	s.signIn(t, "ada@example.com")
	openStream(t, s, s.client) // the hub's first use: it holds every change from here
	offset.Store(int64(time.Minute))
	wantStatus(t, s.create(t, "since-box", nil), http.StatusSeeOther)
	inst, err := s.DB.FindInstanceByName(context.Background(), "since-box")
	if err != nil {
		t.Fatal(err)
	}

	for text(s.get(t, "/instances/since-box/row", "HX-Request", "true").doc.Find(`[data-testid="state"]`)) != "Running" {
		time.Sleep(10 * time.Millisecond)
	}

	// The page asked a second ago (and a margin): the create's changes.
	st := openStreamAt(t, s, s.client, "/events?age=1000")
	if _, lines, err := st.next(); err != nil || len(lines) == 0 || lines[0] != "retry: 1000" {
		t.Fatalf("the stream opens with %q, %v", lines, err)
	}
	event, lines, err := st.next()
	if err != nil || event != views.InstanceEvent || lines[1] != fmt.Sprintf("data: %d", inst.ID) {
		t.Fatalf("then %q %q, %v; want the instance's change", event, lines, err)
	}
	// Then what comes.
	s.Hub.Publish(instancehub.InstanceChange{ID: 424242})
	for {
		event, lines, err = st.next()
		if err != nil || event != views.InstanceEvent {
			t.Fatalf("then %q %q, %v; want the next change", event, lines, err)
		}
		if lines[1] == "data: 424242" {
			break
		}
	}

	// Asked from before the portal's stream of changes began: resync.
	st = openStreamAt(t, s, s.client, "/events?age=300000")
	st.next()
	for {
		event, lines, err := st.next()
		if err != nil {
			t.Fatal(err)
		}
		if event == views.ResyncEvent {
			break
		}
		if event != views.InstanceEvent {
			t.Fatalf("heard %q %q before the resync", event, lines)
		}
	}

	// Without age, nothing is told again.
	st = openStream(t, s, s.client)
	st.next()
	s.Hub.Publish(instancehub.InstanceChange{ID: 434343})
	if event, lines, err := st.next(); err != nil || lines[len(lines)-1] != "data: 434343" {
		t.Fatalf("without age, first heard %q %q, %v", event, lines, err)
	}
}
