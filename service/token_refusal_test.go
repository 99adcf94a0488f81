package service_test

import (
	"context"
	"maps"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/internal/testportal"
)

func TestBadTokenDelay(t *testing.T) {
	for n, want := range []time.Duration{0, 0, 0, 0, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second,
		16 * time.Second, 30 * time.Second, 30 * time.Second} {
		if got := instancehub.BadTokenDelay(n); got != want {
			t.Errorf("BadTokenDelay(%d) = %v, want %v", n, got, want)
		}
	}
	if got := instancehub.BadTokenDelay(1 << 20); got != instancehub.MaxBadTokenDelay {
		t.Errorf("BadTokenDelay(a million) = %v", got)
	}
}

// TestBadTokensSlowTheirSourceOnly: bad tokens from one address slow that
// address's next bad tokens down, minute by minute; another address's, and
// every valid token, are answered at once.
func TestBadTokensSlowTheirSourceOnly(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0)
	now := time.Date(2026, 5, 4, 9, 30, 0, 0, time.UTC)
	p.Service.Now = func() time.Time { return now }
	var waited []time.Duration
	p.Service.Wait = func(_ context.Context, d time.Duration) error { waited = append(waited, d); return nil }
	token, err := p.Service.CreateTokenFromCLI(context.Background(), "ada@example.com", instancehub.NewToken{Name: "nightly"})
	if err != nil {
		t.Fatal(err)
	}
	at := func(addr string) context.Context { return instancehub.NewContextWithSource(context.Background(), addr) }
	guess := func(addr string) time.Duration {
		t.Helper()
		waited = nil
		if _, err := p.Service.UserByToken(at(addr), instancehub.TokenPrefix+"guess"); instancehub.ErrorCode(err) != instancehub.EUNAUTHORIZED {
			t.Fatalf("a bad token from %s: %v, want EUNAUTHORIZED", addr, err)
		}
		var total time.Duration
		for _, d := range waited {
			total += d
		}
		return total
	}
	for n := 1; n <= 6; n++ {
		if got, want := guess("198.51.100.7"), instancehub.BadTokenDelay(n); got != want {
			t.Errorf("bad token %d waited %v, want %v", n, got, want)
		}
	}
	if got := guess("192.0.2.10"); got != 0 {
		t.Errorf("another address's first bad token waited %v", got)
	}
	waited = nil
	user, err := p.Service.UserByToken(at("198.51.100.7"), token.Secret)
	if err != nil || user.Email != "ada@example.com" || len(waited) != 0 {
		t.Errorf("a valid token from the slowed address: %v, %v, waited %v; want served at once", user, err, waited)
	}
	now = now.Add(time.Minute)
	if got := guess("198.51.100.7"); got != 0 {
		t.Errorf("the first bad token of the next minute waited %v", got)
	}
	events, total, err := p.DB.FindAuditEvents(context.Background(), instancehub.AuditFilter{Action: "request.token"})
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, e := range events {
		counts[e.At.Format("15:04")+" "+e.SourceIP] = e.Count
	}
	if want := map[string]int{"09:30 198.51.100.7": 6, "09:30 192.0.2.10": 1, "09:31 198.51.100.7": 1}; total != 3 || !maps.Equal(counts, want) {
		t.Errorf("%d tallies %v, want %v", total, counts, want)
	}
}
