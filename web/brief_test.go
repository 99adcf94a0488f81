package web_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/internal/testportal"
	"github.com/instancehub/instancehub/views"
)

// TestListRowsFromABriefRead: the list page reads its instances briefly
// (ListQuery.Brief, as parseListQuery asks); its rows, with what the
// service adds to them (access, images, next stops), are those a full read
// makes, for an Owner, an instance's owner and a Reader, running instances
// and one in an operation, with idle shutdown on and off.
func TestListRowsFromABriefRead(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0)
	grace := p.EnsureUser(t, "grace@example.com", "Grace", instancehub.RoleDataScientist)
	reader := p.EnsureUser(t, "rita@example.com", "Rita", instancehub.RoleReader)
	p.Seed(t, "mine", 3, p.User)
	p.Seed(t, "hers", 3, grace)
	p.SeedNamed(t, "now-box", grace)
	// An operation under way, as the store records it (no engine drives it
	// between the two reads).
	busy, err := p.DB.FindInstanceByName(context.Background(), "hers0002")
	if err != nil {
		t.Fatal(err)
	}
	op := &instancehub.Operation{InstanceID: busy.ID, Kind: instancehub.OpStop, Trigger: instancehub.TriggerUser, UserID: grace.ID}
	if err := p.DB.BeginOperation(context.Background(), op); err != nil {
		t.Fatal(err)
	}
	for _, viewer := range []*instancehub.User{p.User, grace, reader} {
		render := func(brief bool) string {
			t.Helper()
			ctx := p.As(viewer)
			list, err := p.Service.ListInstances(ctx, instancehub.ListQuery{Page: 1, Brief: brief})
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := views.InstanceList(list).Render(views.WithPage(ctx, &views.Page{User: viewer, CSRFToken: "token"}), &b); err != nil {
				t.Fatal(err)
			}
			return b.String()
		}
		full, brief := render(false), render(true)
		if brief != full {
			t.Errorf("%s: the list from a brief read differs from a full read's:\n%s\nwant\n%s", viewer.Email, brief, full)
		}
		if !bytes.Contains([]byte(full), []byte("hers0002")) || !bytes.Contains([]byte(full), []byte("now-box")) {
			t.Fatalf("%s: the list lacks its instances:\n%s", viewer.Email, full)
		}
	}
}
