package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/instancehub/instancehub"
)

// A row or header button the state does not allow stays in the Tab order
// (aria-disabled, not disabled) and is described by its reason, held once
// in the page's reasons block; without script its form still posts, and the
// server refuses it with the state rule and changes nothing.
func TestOffActionsSayWhy(t *testing.T) {
	s := newSite(t, 0)
	s.signIn(t, "ada@example.com")
	wantStatus(t, s.create(t, "why-box", nil), http.StatusSeeOther)
	s.waitRunning(t, "why-box")

	for _, page := range []struct{ path, scope string }{
		{"/instances", `tr[data-name="why-box"]`},
		{"/instances/why-box", `[data-testid="detail"] [role="toolbar"]`},
	} {
		r := s.get(t, page.path)
		wantStatus(t, r, http.StatusOK)
		start := r.doc.Find(page.scope).Find(`button`).FilterFunction(func(_ int, b *goquery.Selection) bool {
			return strings.TrimSpace(b.Text()) == "Start"
		})
		if start.Length() != 1 {
			t.Fatalf("%s: %d Start buttons", page.path, start.Length())
		}
		if _, disabled := start.Attr("disabled"); disabled || start.AttrOr("aria-disabled", "") != "true" {
			t.Errorf("%s: Start is %s", page.path, start.AttrOr("aria-disabled", "(not aria-disabled)"))
		}
		why := start.AttrOr("aria-describedby", "")
		if got := text(r.doc.Find("#" + why)); why != "why-start-running" || got != "Start is not available: the instance is running." {
			t.Errorf("%s: Start is described by %q: %q", page.path, why, got)
		}
		// Every description a button points to is on the page, once; the
		// block holds each reason once, and nothing else.
		r.doc.Find(`button[aria-describedby]`).Each(func(_ int, b *goquery.Selection) {
			id := b.AttrOr("aria-describedby", "")
			if n := r.doc.Find("#" + id).Length(); n != 1 || text(r.doc.Find("#"+id)) == "" {
				t.Errorf("%s: %q is described by %q, found %d times", page.path, text(b), id, n)
			}
		})
		want := 0
		for _, kind := range instancehub.OperationKinds {
			for _, st := range instancehub.ListedStates {
				if kind.Check(st) != nil {
					want++
				}
			}
		}
		block := r.doc.Find(`[data-testid="action-reasons"]`)
		if block.Length() != 1 || block.Children().Length() != want {
			t.Errorf("%s: %d reasons blocks, the first with %d reasons, want one with %d", page.path, block.Length(), block.Children().Length(), want)
		}
	}

	// Without script the row's form posts Start anyway: it is refused, with
	// the state rule's words on the page, and the instance is as it was.
	r := s.post(t, "/instances/why-box/start", url.Values{"from": {"row"}})
	wantStatus(t, r, http.StatusConflict)
	if msg := text(r.doc.Find("main")); !strings.Contains(msg, "Start is only allowed when the instance is stopped; it is running.") {
		t.Errorf("the refusal reads %q", truncate(msg))
	}
	row := s.get(t, "/instances").doc.Find(`tr[data-name="why-box"]`)
	if state := text(row.Find(`[data-testid="state"]`)); state != "Running" {
		t.Errorf("state after the refused Start = %q", state)
	}
	detail := s.get(t, "/instances/why-box").doc
	if last := text(detail.Find(`[data-testid="last-operation"]`)); !strings.Contains(last, "Create") {
		t.Errorf("last operation after the refused Start = %q", last)
	}
}
