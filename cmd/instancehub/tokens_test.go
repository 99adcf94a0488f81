package main

import (
	"context"
	"io"
	"strings"
	"testing"
)

// TestTokensCreateRefusesAUserWithoutRole: the command line makes no token
// for an account with no role, which every call would refuse, and says why.
func TestTokensCreateRefusesAUserWithoutRole(t *testing.T) {
	dir, ctx := t.TempDir(), context.Background()
	add := []string{"users", "add", "--data", dir, "--email", "grace@example.com"}
	if err := run(ctx, add, strings.NewReader("a long password\n"), io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	out, _, err := cli(t, "tokens", "create", "--data", dir, "--email", "grace@example.com", "--name", "nightly")
	if err == nil || out != "" || !strings.Contains(err.Error(), "no role") {
		t.Errorf("tokens create for an account with no role: printed %q, %v", out, err)
	}
}
