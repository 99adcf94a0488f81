package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/client"
	"github.com/instancehub/instancehub/internal/testportal"
	"github.com/instancehub/instancehub/static"
	"github.com/instancehub/instancehub/web"
)

// portal serves a real portal's web server over HTTP and returns it with
// the secret of a token of its Owner.
func portal(t *testing.T) (*testportal.Portal, string, string) {
	t.Helper()
	p := testportal.Open(t, t.TempDir(), 0)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := web.New(web.Config{Workspace: "Client tests", Static: static.FS, Logger: log, LocalAccounts: true}, p.Service)
	server := httptest.NewServer(srv.Handler())
	t.Cleanup(server.Close)
	token, err := p.Service.CreateToken(p.Ctx, instancehub.NewToken{Name: "client tests", Expires: "1d"})
	if err != nil {
		t.Fatal(err)
	}
	return p, server.URL, token.Secret
}

// wait follows an accepted operation until it ends, as --wait does.
func wait(t *testing.T, api *client.Client, a *client.Accepted) *client.Operation {
	t.Helper()
	op := &a.Operation
	for deadline := time.Now().Add(30 * time.Second); op.Status == "InProgress"; {
		if time.Now().After(deadline) {
			t.Fatalf("%s of %s still in progress: %+v", op.Name, op.Compute, op)
		}
		time.Sleep(20 * time.Millisecond)
		var err error
		if op, err = api.Operation(context.Background(), a.Location); err != nil {
			t.Fatal(err)
		}
	}
	return op
}

// TestClientDrivesAnInstance: through the client alone, an instance is
// made from an az ml file, listed, shown as JSON and as the file, stopped,
// its operations listed newest first, and deleted.
func TestClientDrivesAnInstance(t *testing.T) {
	_, url, token := portal(t)
	ctx := context.Background()
	api := client.New(url, token)
	made, err := api.Create(ctx, []byte("name: by-client\ntype: computeinstance\nsize: Standard_DS3_v2\ndescription: Made by the client\n"), "application/yaml")
	if err != nil {
		t.Fatal(err)
	}
	if made.Operation.Name != "Create" || made.Operation.Compute != "by-client" || !strings.Contains(made.Location, "/operations/") {
		t.Fatalf("create accepted %+v", made)
	}
	if op := wait(t, api, made); op.Status != "Succeeded" {
		t.Fatalf("create ended %+v", op)
	}

	all, err := api.Computes(ctx, "by-", false)
	if err != nil || len(all) != 1 {
		t.Fatalf("list: %d, %v", len(all), err)
	}
	var listed client.Compute
	if err := json.Unmarshal(all[0], &listed); err != nil || listed.Name != "by-client" || listed.Properties.Properties.State != "Running" {
		t.Errorf("listed %+v, %v", listed, err)
	}
	raw, err := api.Compute(ctx, "by-client")
	var shown client.Compute
	if err != nil || json.Unmarshal(raw, &shown) != nil || shown.Properties.Description != "Made by the client" {
		t.Errorf("show: %s, %v", raw, err)
	}
	file, err := api.ComputeYAML(ctx, "by-client")
	if err != nil || !strings.Contains(string(file), "name: by-client") {
		t.Errorf("show as a file: %q, %v", file, err)
	}

	stopped, err := api.Act(ctx, "by-client", "stop")
	if err != nil {
		t.Fatal(err)
	}
	if op := wait(t, api, stopped); op.Name != "Stop" || op.Status != "Succeeded" {
		t.Fatalf("stop ended %+v", op)
	}
	ops, err := api.Operations(ctx, "by-client")
	if err != nil || len(ops) != 2 || ops[0].Name != "Stop" || ops[1].Name != "Create" {
		t.Errorf("operations %+v, %v", ops, err)
	}
	deleted, err := api.Delete(ctx, "by-client")
	if err != nil {
		t.Fatal(err)
	}
	if op := wait(t, api, deleted); op.Status != "Succeeded" {
		t.Fatalf("delete ended %+v", op)
	}
	if all, err := api.Computes(ctx, "", false); err != nil || len(all) != 0 {
		t.Errorf("after the delete: %d listed, %v", len(all), err)
	}
}

// TestClientRefusals: the portal's refusals come back as *client.Error,
// with the status, the code, the message and each field's own; an address
// no request can go to and a portal that does not answer are said so.
func TestClientRefusals(t *testing.T) {
	_, url, token := portal(t)
	ctx := context.Background()

	_, err := client.New(url, "ihp_not-a-token").Computes(ctx, "", false)
	var e *client.Error
	if !errors.As(err, &e) || e.Status != http.StatusUnauthorized || e.Message == "" {
		t.Errorf("a wrong token: %#v", err)
	}
	_, err = client.New(url, token).Create(ctx, []byte(`{"name": "9lives", "type": "computeinstance"}`), "application/json")
	if !errors.As(err, &e) || e.Status != http.StatusUnprocessableEntity || e.Code != instancehub.EINVALID ||
		len(e.Details) == 0 || !strings.Contains(err.Error(), "start with a letter") {
		t.Errorf("a bad name: %#v (%v)", err, err)
	}
	_, err = client.New(url, token).Compute(ctx, "nowhere")
	if !errors.As(err, &e) || e.Status != http.StatusNotFound {
		t.Errorf("an unknown instance: %#v", err)
	}

	var address *client.AddressError
	if _, err := client.New("http://a portal", token).Computes(ctx, "", false); !errors.As(err, &address) {
		t.Errorf("an address with a space: %#v", err)
	}
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	if _, err := client.New(gone.URL, token).Computes(ctx, "", false); err == nil || !strings.Contains(err.Error(), "did not answer") {
		t.Errorf("a portal that is gone: %v", err)
	}
}

// TestCreateIsSentAgainWithItsKey: a create whose connection breaks before
// any answer is sent once more with the same Idempotency-Key, and the
// portal makes one instance.
func TestCreateIsSentAgainWithItsKey(t *testing.T) {
	p, portalURL, token := portal(t)
	target, err := url.Parse(portalURL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	var mu sync.Mutex
	var keys []string
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		keys = append(keys, r.Header.Get("Idempotency-Key"))
		first := len(keys) == 1
		mu.Unlock()
		if first { // lost on the way: the connection ends without an answer
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer front.Close()

	api := client.New(front.URL, token)
	made, err := api.Create(context.Background(), []byte("name: once\ntype: computeinstance\nsize: Standard_DS3_v2\n"), "application/yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0] == "" || keys[0] != keys[1] {
		t.Errorf("Idempotency-Keys sent %q, want one key twice", keys)
	}
	if made.Operation.Compute != "once" {
		t.Errorf("accepted %+v", made)
	}
	if _, total, err := p.DB.FindInstances(p.Ctx, instancehub.InstanceFilter{}); err != nil || total != 1 {
		t.Errorf("%d instances made, %v", total, err)
	}
}
