package web

import (
	"net/http"
	"testing"
)

// TestDropVaryLeavesOtherNames: the fast path takes only Accept-Encoding
// out of Vary before naming it again, never what others named there.
func TestDropVaryLeavesOtherNames(t *testing.T) {
	h := http.Header{}
	h.Add("Vary", "Accept-Encoding")
	h.Add("Vary", "HX-Request")
	dropVary(h, "Accept-Encoding")
	if got := h.Values("Vary"); len(got) != 1 || got[0] != "HX-Request" {
		t.Fatalf("Vary %q, want HX-Request alone", got)
	}
	dropVary(h, "HX-Request")
	if _, ok := h["Vary"]; ok {
		t.Fatalf("Vary %q, want none", h.Values("Vary"))
	}
}
