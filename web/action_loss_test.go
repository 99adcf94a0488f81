package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/instancehub/instancehub"
)

// inUse is a probe whose Jupyter reports a connected notebook and an open
// terminal on every instance.
type inUse struct{ activity instancehub.Activity }

func (p inUse) Probe(context.Context, *instancehub.Instance) (instancehub.Activity, error) {
	return p.activity, nil
}

// TestStopOfAnInstanceInUseAsksFirst: Stop, Restart and Delete of an
// instance whose Jupyter has a notebook connected say what they would end
// before anything happens: on a page without script, in the page's dialog
// with htmx (an instancehub:ask event); confirmed, they go ahead. Start
// and an instance not in use do not ask.
func TestStopOfAnInstanceInUseAsksFirst(t *testing.T) {
	s := newSite(t, 0)
	s.signIn(t, "ada@example.com")
	s.create(t, "busy-box", nil)
	s.waitRunning(t, "busy-box")
	s.Service.Probe = inUse{instancehub.Activity{Kernels: 1, Connections: 1}}
	const loss = "1 notebook connected: unsaved changes will be lost."

	for _, action := range []string{"stop", "restart", "delete"} {
		r := s.post(t, "/instances/busy-box/"+action, url.Values{"from": {"detail"}})
		wantStatus(t, r, http.StatusOK)
		if got := text(r.doc.Find(`[data-testid="action-loss"]`)); got != loss {
			t.Errorf("%s without script: %q, want %q", action, got, loss)
		}
		form := r.doc.Find(`form[action="/instances/busy-box/` + action + `"]`)
		if v, _ := form.Find(`input[name="confirmed"]`).Attr("value"); v != "1" {
			t.Errorf("%s: the page's form does not confirm", action)
		}
		if v, _ := form.Find(`input[name="from"]`).Attr("value"); v != "detail" {
			t.Errorf("%s: the page's form forgets where it came from: %q", action, v)
		}

		r = s.post(t, "/instances/busy-box/"+action, url.Values{"from": {"row"}}, "HX-Request", "true")
		wantStatus(t, r, http.StatusNoContent)
		var ask map[string]struct{ Question, Verb, URL, From string }
		if err := json.Unmarshal([]byte(r.Header.Get("HX-Trigger")), &ask); err != nil {
			t.Fatalf("%s with htmx: HX-Trigger %q: %v", action, r.Header.Get("HX-Trigger"), err)
		}
		q := ask["instancehub:ask"]
		if !strings.HasSuffix(q.Question, "busy-box? "+loss) || q.URL != "/instances/busy-box/"+action || q.From != "row" {
			t.Errorf("%s with htmx asks %+v", action, q)
		}
	}
	if ops, _ := s.DB.FindOperations(context.Background(), s.waitRunning(t, "busy-box").ID, 10); len(ops) != 1 {
		t.Fatalf("operations after the questions: %d, want the create alone", len(ops))
	}
	r := s.get(t, "/instances/busy-box/delete")
	if got := text(r.doc.Find(`[data-testid="action-loss"]`)); got != loss {
		t.Errorf("the delete page: %q, want %q", got, loss)
	}

	// Confirmed, it goes ahead.
	r = s.post(t, "/instances/busy-box/stop", url.Values{"confirmed": {"1"}})
	wantStatus(t, r, http.StatusSeeOther)
	s.WaitState(t, "busy-box", instancehub.StateStopped)

	// Nothing in use: no question.
	s.Service.Probe = inUse{}
	r = s.post(t, "/instances/busy-box/start", nil)
	wantStatus(t, r, http.StatusSeeOther)
	s.waitRunning(t, "busy-box")
	r = s.post(t, "/instances/busy-box/stop", nil)
	wantStatus(t, r, http.StatusSeeOther)
}
