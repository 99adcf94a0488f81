package views

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
)

func renderToolbar(t *testing.T, inst *instancehub.Instance, csrf string) string {
	t.Helper()
	var b bytes.Buffer
	ctx := WithPage(context.Background(), &Page{User: &instancehub.User{ID: 1, Name: "Ada"}, CSRFToken: csrf, Workspace: "ws", Section: "compute"})
	if err := detailToolbar(inst).Render(ctx, &b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestToolbarKeyHoldsWhatTheToolbarShows: a kept toolbar is served for
// every instance and session with its key, so any change of an instance
// (each of its fields in turn, from several starting points) or of the
// session's CSRF token that changes the toolbar must change its key.
func TestToolbarKeyHoldsWhatTheToolbarShows(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) // only rendered, never compared with the clock
	running := rowInstance(now)
	running.State = instancehub.StateRunning
	stopped := rowInstance(now)
	stopped.State, stopped.Access = instancehub.StateStopped, instancehub.Access{}
	checked := 0
	for _, base := range []*instancehub.Instance{rowInstance(now), running, stopped} {
		before := renderToolbar(t, base, "token")
		key := toolbarKeyOf(base, "token")
		for _, v := range variants(base) {
			if renderToolbar(t, v.inst, "token") == before {
				continue
			}
			checked++
			if toolbarKeyOf(v.inst, "token") == key {
				t.Errorf("%s (from %s): the toolbar changes but its key does not", v.field, base.State)
			}
		}
		if renderToolbar(t, base, "another") != before && toolbarKeyOf(base, "another") == key {
			t.Errorf("the toolbar changes with the session's CSRF token but its key does not")
		}
	}
	if checked < 6 {
		t.Fatalf("only %d changes changed a toolbar: the variants do not reach its fields", checked)
	}
}

// TestKeptToolbarIsTheToolbarAsRendered: the details with a kept toolbar
// are the details rendered without, byte for byte, the first time and
// from the kept toolbar, for two sessions and as the instance's state
// changes.
func TestKeptToolbarIsTheToolbarAsRendered(t *testing.T) {
	toolbars = &keptParts[toolbarKey]{max: 4096}
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	render := func(d *instancehub.InstanceDetail, csrf string) string {
		var b bytes.Buffer
		ctx := WithPage(context.Background(), &Page{User: &instancehub.User{ID: 1, Name: "Ada"}, CSRFToken: csrf})
		if err := Detail(d).Render(ctx, &b); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	for _, step := range []struct {
		csrf  string
		state instancehub.State
	}{
		{"token-a", instancehub.StateRunning},
		{"token-a", instancehub.StateRunning},
		{"token-b", instancehub.StateRunning},
		{"token-a", instancehub.StateStopping},
		{"token-b", instancehub.StateStopping},
	} {
		inst := rowInstance(now)
		inst.State, inst.LastOperation = step.state, nil
		d := &instancehub.InstanceDetail{Instance: inst}
		got := render(d, step.csrf)
		if want := renderToolbar(t, inst, step.csrf); !strings.Contains(got, want) {
			t.Fatalf("%s, %s: the details do not hold the toolbar as rendered", step.csrf, step.state)
		}
		if strings.Count(got, `value="`+step.csrf+`"`) < 4 {
			t.Fatalf("%s, %s: the toolbar's forms do not carry the session's token", step.csrf, step.state)
		}
	}
	if len(toolbars.parts) != 4 {
		t.Fatalf("%d toolbars kept, want one for each session and state", len(toolbars.parts))
	}
}
