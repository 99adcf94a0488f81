package oidc_test

import (
	"bytes"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/oidc"
	"github.com/oauth2-proxy/mockoidc"
)

// startIssuerDown runs a real OpenID Connect provider that answers 503 to
// everything, as one still starting behind its proxy does, until up is
// called.
func startIssuerDown(t *testing.T) (m *mockoidc.MockOIDC, up func()) {
	t.Helper()
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	var down atomic.Bool
	down.Store(true)
	err = m.AddMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if down.Load() {
				http.Error(w, "starting", http.StatusServiceUnavailable)
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ln, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	return m, func() { down.Store(false) }
}

// logBuffer is a log the provider's retries and the test share.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// manualRetry hands each wait of the retries to the test, which lets it end.
type manualRetry struct {
	waits chan time.Duration
	fire  chan time.Time
}

func newManualRetry() *manualRetry {
	return &manualRetry{waits: make(chan time.Duration, 64), fire: make(chan time.Time)}
}

func (r *manualRetry) after(d time.Duration) <-chan time.Time {
	r.waits <- d
	return r.fire
}

// TestStartWhileTheProviderIsDown: Start returns a provider that is not
// ready, and says why, while the issuer cannot be discovered; it tries
// again after 1 s, 2 s, 4 s… up to a minute, and once the issuer answers,
// sign-ins work, without a new provider.
func TestStartWhileTheProviderIsDown(t *testing.T) {
	m, up := startIssuerDown(t)
	var logs logBuffer
	retry := newManualRetry()
	p, err := oidc.Start(t.Context(), oidc.Config{
		IssuerURL: m.Issuer(), ClientID: m.ClientID, ClientSecret: m.ClientSecret, RedirectURL: redirectURL,
		Logger: slog.New(slog.NewTextHandler(&logs, nil)), Retry: oidc.Retry{After: retry.after},
	})
	if err != nil {
		t.Fatal(err)
	}
	err = p.Ready()
	if instancehub.ErrorCode(err) != instancehub.EUNAVAILABLE ||
		!strings.Contains(instancehub.ErrorMessage(err), "did not answer as expected") ||
		!strings.Contains(err.Error(), "503") {
		t.Errorf("Ready while the issuer answers 503: %v (%q)", err, instancehub.ErrorMessage(err))
	}
	if _, err := p.AuthCodeURL("state", "nonce", "verifier"); instancehub.ErrorCode(err) != instancehub.EUNAVAILABLE {
		t.Errorf("AuthCodeURL while not ready: %v", err)
	}
	if _, err := p.Identify(t.Context(), "code", "verifier", "nonce"); instancehub.ErrorCode(err) != instancehub.EUNAVAILABLE {
		t.Errorf("Identify while not ready: %v", err)
	}
	if p.Name() != "single sign-on" {
		t.Errorf("Name = %q", p.Name())
	}

	for _, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second,
		16 * time.Second, 32 * time.Second, time.Minute, time.Minute} {
		if got := <-retry.waits; got != want {
			t.Errorf("waits %s before trying again, want %s", got, want)
		}
		retry.fire <- time.Now()
	}
	<-retry.waits
	if p.Ready() == nil {
		t.Fatal("ready while the issuer is down")
	}
	up()
	retry.fire <- time.Now()
	for deadline := time.Now().Add(10 * time.Second); p.Ready() != nil; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("not ready once the issuer answers: %v", p.Ready())
		}
	}
	a := signIn(t, p)
	identity, err := p.Identify(t.Context(), a.code, a.verifier, a.nonce)
	if err != nil || identity.Email != "jane.doe@example.com" {
		t.Fatalf("sign-in once the issuer answers: %+v, %v", identity, err)
	}
	select {
	case d := <-retry.waits:
		t.Errorf("tries again (after %s) once ready", d)
	default:
	}
	log := logs.String()
	if n := strings.Count(log, "level=WARN msg=\"single sign-on is unavailable"); n != 1 {
		t.Errorf("the same reason was logged as a warning %d times, want once:\n%s", n, log)
	}
	if !strings.Contains(log, "level=INFO msg=\"single sign-on is available") {
		t.Errorf("the recovery is not logged:\n%s", log)
	}
}

// TestStartSaysWhySingleSignOnIsUnavailable: the reason a person reads on
// the sign-in page, and the operator's detail kept for the log.
func TestStartSaysWhySingleSignOnIsUnavailable(t *testing.T) {
	m := startIssuer(t)
	notFound := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(notFound.Close)
	tests := []struct {
		name, issuer string
		want, cause  string
	}{
		{"nothing listens", "http://127.0.0.1:1/oidc", "could not be reached", "connection refused"},
		{"not an issuer", notFound.URL, "did not answer as expected", "404"},
		{"issuer spelt differently", m.Issuer() + "/", "settings do not match", "did not match the issuer URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := oidc.Start(t.Context(), oidc.Config{IssuerURL: tt.issuer, ClientID: m.ClientID, RedirectURL: redirectURL,
				Retry: oidc.Retry{After: func(time.Duration) <-chan time.Time { return nil }}})
			if err != nil {
				t.Fatal(err)
			}
			err = p.Ready()
			if instancehub.ErrorCode(err) != instancehub.EUNAVAILABLE || !strings.Contains(instancehub.ErrorMessage(err), tt.want) ||
				!strings.Contains(err.Error(), tt.cause) {
				t.Errorf("Ready = %v (%q), want %q and %q", err, instancehub.ErrorMessage(err), tt.want, tt.cause)
			}
		})
	}
	// A configuration that can never work stops the portal, as New does.
	if _, err := oidc.Start(t.Context(), oidc.Config{IssuerURL: m.Issuer(), RedirectURL: redirectURL}); err == nil {
		t.Error("Start without a client ID succeeded")
	}
}
