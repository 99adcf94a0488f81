package web_test

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"
)

// TestShutdownStopsServeWhicheverComesFirst: a Shutdown that comes before
// Serve (the portal closed while it starts) makes Serve return at once
// rather than serve for good; one after stops it. Before, Serve made its
// http.Server in its own goroutine, which Shutdown read unguarded: it found
// none and returned, and Serve then served on (and `go test -race` saw the
// two goroutines race on it).
func TestShutdownStopsServeWhicheverComesFirst(t *testing.T) {
	serve := func(t *testing.T, srv interface{ Serve(net.Listener) error }) (string, chan error) {
		t.Helper()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- srv.Serve(ln) }()
		return "http://" + ln.Addr().String(), done
	}
	returned := func(t *testing.T, done chan error) {
		t.Helper()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("Serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Serve still serving 10 s after a Shutdown")
		}
	}
	ctx := context.Background()

	t.Run("shutdown first", func(t *testing.T) {
		s := newSite(t, 0)
		if err := s.web.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
		_, done := serve(t, s.web)
		returned(t, done)
	})
	t.Run("serve first", func(t *testing.T) {
		s := newSite(t, 0)
		base, done := serve(t, s.web)
		var res *http.Response
		var err error
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if res, err = http.Get(base + "/healthz"); err == nil {
				break
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("/healthz: %s", res.Status)
		}
		if err := s.web.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
		returned(t, done)
	})
}
