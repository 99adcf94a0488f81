package web_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/azure/emulator"
	"github.com/instancehub/instancehub/internal/pgtest"
	"github.com/instancehub/instancehub/internal/testportal"
	"github.com/instancehub/instancehub/static"
	"github.com/instancehub/instancehub/views"
	"github.com/instancehub/instancehub/web"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

// siteOn serves p's pages as a replica's web server does.
func siteOn(t *testing.T, p *testportal.Portal) *site {
	t.Helper()
	srv := web.New(web.Config{Workspace: "Test workspace", Static: static.FS, LocalAccounts: true,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, p.Service)
	server := httptest.NewServer(srv.Handler())
	t.Cleanup(server.Close)
	return &site{Portal: p, server: server, client: newClient(), web: srv}
}

// TestEventsReachOtherReplicas: two replicas on one PostgreSQL database; a
// create made on one, then a stop, are heard by a page's stream open on the
// other, whose row fetched on each event reaches Running, then Stopped.
func TestEventsReachOtherReplicas(t *testing.T) {
	a := testportal.OpenPostgres(t, pgtest.NewDatabase(t), "a", 3*time.Second, emulator.Options{})
	b := a.Replica(t, "b", 3*time.Second)
	onA, onB := siteOn(t, a), siteOn(t, b)
	onA.signIn(t, "ada@example.com")
	onB.signIn(t, "ada@example.com")
	st := openStream(t, onB, onB.client)
	if _, lines, err := st.next(); err != nil || len(lines) == 0 || lines[0] != "retry: 1000" {
		t.Fatalf("the stream opens with %q, %v", lines, err)
	}
	// Unheard, the stream would wait for ever: end it after a while.
	defer time.AfterFunc(30*time.Second, func() { st.resp.Body.Close() }).Stop()
	wantStatus(t, onA.create(t, "far-box", nil), http.StatusSeeOther)
	inst, err := a.DB.FindInstanceByName(context.Background(), "far-box")
	if err != nil {
		t.Fatal(err)
	}
	// Each change made on A is heard on B until the row fetched there
	// shows where it ends. How many events that takes depends on how soon
	// B fetches: a fetch after the first may already see the end.
	hear := func(settled string) {
		t.Helper()
		for heard := 0; ; {
			event, lines, err := st.next()
			if err != nil {
				t.Fatalf("the stream on the other replica ended after %d events: %v", heard, err)
			}
			if event == "" {
				continue
			}
			if event != views.InstanceEvent || lines[1] != fmt.Sprintf("data: %d", inst.ID) {
				t.Fatalf("heard %q %q, want %s", event, lines, views.InstanceEvent)
			}
			heard++
			row := onB.get(t, "/instances/far-box/row", "HX-Request", "true")
			if text(row.doc.Find(`[data-testid="state"]`)) == settled {
				return
			}
		}
	}
	hear("Running")
	// A change of an instance B already shows, made on A, is heard too.
	if _, err := a.Service.Act(a.Ctx, "far-box", instancehub.OpStop); err != nil {
		t.Fatal(err)
	}
	hear("Stopped")
}
