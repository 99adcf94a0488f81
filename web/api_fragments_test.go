package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/instancehub/instancehub"
)

// TestAPIKeptComputesHoldWhatTheyShow: the list's computes are kept as
// encoded, by data version and the portal's address as the client reached
// it; a change to an instance, and another address, are answered anew, and
// an answer from kept computes is the one encoded fresh.
func TestAPIKeptComputesHoldWhatTheyShow(t *testing.T) {
	s := newSite(t, 0)
	s.Seed(t, "kept", 3, s.User)
	a := apiClient{s, newToken(t, s, "ada@example.com", instancehub.NewToken{})}
	type list struct {
		Value []struct {
			Name       string
			Properties struct {
				Properties struct {
					LastOperation struct{ OperationName string }
					Applications  []struct{ EndpointURI string }
				}
			}
		}
	}
	lastOperationOf := func(r *response, name string) string {
		t.Helper()
		wantStatus(t, r, http.StatusOK)
		var l list
		decodeJSON(t, r, &l)
		for _, v := range l.Value {
			if v.Name == name {
				return v.Properties.Properties.LastOperation.OperationName
			}
		}
		t.Fatalf("%s not in %s", name, r.body)
		return ""
	}
	if got := lastOperationOf(a.get(t, "/api/v1/computes?_=1"), "kept0001"); got == "Stop" {
		t.Fatalf("kept0001's last operation is %s before any", got)
	}

	r := a.call(t, "POST", "/api/v1/computes/kept0001/stop", "", "")
	wantStatus(t, r, http.StatusAccepted)
	pollOperation(t, a, r.Header.Get("Location")) // it fails: a seeded instance has no VM
	fresh := a.get(t, "/api/v1/computes?_=2")
	if got := lastOperationOf(fresh, "kept0001"); got != "Stop" {
		t.Fatalf("after a stop, kept0001's last operation is %q, want Stop", got)
	}
	if again := a.get(t, "/api/v1/computes?_=3"); again.body != fresh.body {
		t.Errorf("from kept computes:\n%s\nencoded fresh:\n%s", again.body, fresh.body)
	}

	req, _ := http.NewRequest("GET", s.server.URL+"/api/v1/computes?_=4", nil)
	req.Host = "portal.example"
	req.Header.Set("Authorization", "Bearer "+a.token)
	other := s.do(t, http.DefaultClient, req)
	wantStatus(t, other, http.StatusOK)
	var l list
	decodeJSON(t, other, &l)
	for _, v := range l.Value {
		for _, app := range v.Properties.Properties.Applications {
			if !strings.HasPrefix(app.EndpointURI, "http://portal.example/instances/") {
				t.Errorf("asked at portal.example, %s's application is at %s", v.Name, app.EndpointURI)
			}
		}
	}
}
