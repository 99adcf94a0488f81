package web_test

import (
	"net/http"
	"testing"

	"github.com/instancehub/instancehub"
)

// TestAnIDThatIsNoNumberIsNotFound: every route that names a record by
// its number answers a path whose :id is not a number that fits an int64,
// or a number no record has, as not found: a page, or the API's JSON
// error.
func TestAnIDThatIsNoNumberIsNotFound(t *testing.T) {
	s := newSite(t, 0)
	s.signIn(t, "ada@example.com") // an Owner: every route is hers to ask
	a := apiClient{s, newToken(t, s, "ada@example.com", instancehub.NewToken{})}
	for _, id := range []string{"abc", "0", "-1", "99999999999999999999", "1e3"} {
		for _, path := range []string{
			"/access/people/" + id + "/disable",
			"/access/" + id + "/delete",
			"/tokens/" + id + "/revoke",
			"/settings/audit-archives/" + id,
		} {
			wantStatus(t, s.get(t, path), http.StatusNotFound)
		}
		for _, path := range []string{
			"/access/people/" + id + "/disable",
			"/access/" + id + "/delete",
			"/tokens/" + id + "/revoke",
		} {
			wantStatus(t, s.post(t, path, nil), http.StatusNotFound)
		}
		for _, call := range [][2]string{
			{"GET", "/api/v1/computes/nobody/operations/" + id},
			{"DELETE", "/api/v1/roleAssignments/" + id},
		} {
			r := a.call(t, call[0], call[1], "", "")
			wantStatus(t, r, http.StatusNotFound)
			if e := apiErrorOf(t, r); e.Error.Code != "not_found" {
				t.Errorf("%s %s: code %q, want not_found", call[0], call[1], e.Error.Code)
			}
		}
	}
}
