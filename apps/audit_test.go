package apps

import (
	"context"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
)

// TestOpeningAnApplicationIsAudited: the browser's sign-in on the
// application's origin writes one event, with who, which instance and
// which application; the requests that follow, and a ticket replayed, do
// not.
func TestOpeningAnApplicationIsAudited(t *testing.T) {
	f := newFixture(t, time.Hour)
	c := f.browser(f.adaToken)
	u := f.ticket(t, c, "adas-box", "jupyter")
	for range 3 { // the ticket, then twice again: refused
		res, err := c.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	for range 3 {
		res, err := c.Get("http://" + f.host("adas-box", "jupyter") + "/api/contents")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	events, _, err := f.p.DB.FindAuditEvents(context.Background(), instancehub.AuditFilter{Action: "application.open", Result: instancehub.AuditSucceeded})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 {
		t.Fatalf("%d application.open events, want one: %+v", len(events), events)
	}
	e := events[0]
	if e.UserID != f.p.User.ID || e.Target != "adas-box/jupyter" {
		t.Errorf("event by user %d on %q, want Ada's on adas-box/jupyter", e.UserID, e.Target)
	}
}
