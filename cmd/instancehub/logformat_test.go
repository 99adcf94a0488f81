package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestLogFormatJSON: with --log-format json the portal logs one JSON object
// a line, and the line of a request names its ID, which the answer carries
// in X-Request-Id; another format is refused.
func TestLogFormatJSON(t *testing.T) {
	t.Setenv("INSTANCEHUB_LOG_FORMAT", "json")
	var c Config
	args := []string{"--data", t.TempDir(), "--emulator-latency", "0", "--sync-interval", "1h", "--log-level", "debug"}
	if err := parse("serve", args, io.Discard, c.bindServe); err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	log := newLogger(&logs, c.LogLevel, c.LogFormat)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, c, ln, log) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	req, _ := http.NewRequest(http.MethodGet, "http://"+ln.Addr().String()+"/login", nil)
	req.Header.Set("X-Request-Id", "probe-1")
	var resp *http.Response
	for range 200 {
		if resp, err = http.DefaultClient.Do(req); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Request-Id") != "probe-1" {
		t.Fatalf("GET /login: %d, X-Request-Id %q", resp.StatusCode, resp.Header.Get("X-Request-Id"))
	}
	named := false
	for i := 0; i < 200 && !named; i++ {
		named = false
		sc := bufio.NewScanner(strings.NewReader(logs.String()))
		for sc.Scan() {
			var line map[string]any
			if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
				t.Fatalf("not a JSON line: %s", sc.Text())
			}
			if line["msg"] == "request" && line["path"] == "/login" && line["request_id"] == "probe-1" {
				named = true
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !named {
		t.Errorf("no line names the request:\n%s", logs.String())
	}

	var usage usageError
	if err := parse("serve", []string{"--log-format", "xml"}, io.Discard, c.bindServe); !errors.As(err, &usage) || !strings.Contains(err.Error(), "text or json") {
		t.Errorf("--log-format xml: %v", err)
	}
	t.Setenv("INSTANCEHUB_LOG_FORMAT", "xml")
	if err := parse("serve", nil, io.Discard, c.bindServe); !errors.As(err, &usage) || !strings.Contains(err.Error(), "INSTANCEHUB_LOG_FORMAT") {
		t.Errorf("INSTANCEHUB_LOG_FORMAT=xml: %v", err)
	}
}
