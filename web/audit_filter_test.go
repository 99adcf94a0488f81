package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/instancehub/instancehub"
)

// A date in the audit filter that is not one, or a "to" before "from", is
// said beside its field on a 400 page that keeps what was given and shows
// no events (it was silently dropped, showing every event); the CSV export
// and the API refuse it too.
func TestBadAuditDatesAreSaid(t *testing.T) {
	s := newSite(t, 0)
	s.signIn(t, "ada@example.com") // an Owner: the sign-in is an event

	r := s.get(t, "/audit?user=ada&from=2026-13-01&to=yesterday")
	wantStatus(t, r, http.StatusBadRequest)
	for field, want := range map[string]string{
		"from": `From is not a date: "2026-13-01". Use YYYY-MM-DD.`,
		"to":   `To is not a date: "yesterday". Use YYYY-MM-DD.`,
	} {
		input := r.doc.Find("#audit-" + field)
		if v, _ := input.Attr("value"); v != map[string]string{"from": "2026-13-01", "to": "yesterday"}[field] {
			t.Errorf("%s keeps %q", field, v)
		}
		if inv, _ := input.Attr("aria-invalid"); inv != "true" {
			t.Errorf("%s is not marked invalid", field)
		}
		by, _ := input.Attr("aria-describedby")
		if got := text(r.doc.Find("#" + by)); by == "" || got != want {
			t.Errorf("%s's message = %q (described by %q), want %q", field, got, by, want)
		}
	}
	if v, _ := r.doc.Find("#audit-user").Attr("value"); v != "ada" {
		t.Errorf("user filter lost: %q", v)
	}
	if n := r.doc.Find(`[data-testid="audit-row"]`).Length(); n != 0 {
		t.Errorf("%d events shown for a filter that is not one", n)
	}
	if text(r.doc.Find(`[data-testid="audit-filter-error"]`)) == "" {
		t.Error("the events' region does not say why it is empty")
	}

	r = s.get(t, "/audit?from=2026-12-06&to=2026-12-05")
	wantStatus(t, r, http.StatusBadRequest)
	if got := text(r.doc.Find("#audit-to-error")); got != "To is before From: no day can be in both." {
		t.Errorf("to before from: %q", got)
	}

	// Good dates still filter: no error, the events of those days.
	r = s.get(t, "/audit?from=2000-01-01&to=2999-12-31")
	wantStatus(t, r, http.StatusOK)
	if r.doc.Find(`[data-testid="audit-row"]`).Length() == 0 || r.doc.Find(".field-error").Length() != 0 {
		t.Errorf("good dates: %d rows, %d errors", r.doc.Find(`[data-testid="audit-row"]`).Length(), r.doc.Find(".field-error").Length())
	}

	r = s.get(t, "/audit/export.csv?from=soon")
	if r.StatusCode < 400 || strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") {
		t.Errorf("export with a bad date: %d %s", r.StatusCode, r.Header.Get("Content-Type"))
	}

	// The API refused a date that is not one already; a "to" before "from"
	// it took, answering nothing.
	token := newToken(t, s, "ada@example.com", instancehub.NewToken{})
	req, _ := http.NewRequest(http.MethodGet, s.server.URL+"/api/v1/auditEvents?from=2026-12-06&to=2026-12-05", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp := s.do(t, newClient(), req)
	if e := apiErrorOf(t, resp); resp.StatusCode != 422 || e.Error.Code != "invalid" || !strings.Contains(resp.body, `"target":"to"`) ||
		!strings.Contains(resp.body, "To is before From") {
		t.Errorf("API: %d %s", resp.StatusCode, resp.body)
	}
}
