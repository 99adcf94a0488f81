package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRelativeDataOpensJupyter is `make run`: the real program started
// with a relative --data (./data) from another working directory, then
// Jupyter opened through the gateway, where a kernel runs a cell, and the
// Terminal, where a shell runs a command. Jupyter
// used to get the relative folder as its notebook directory and its
// working directory alike, looked for data/notebooks/N/data/notebooks/N
// and exited.
func TestRelativeDataOpensJupyter(t *testing.T) {
	realJupyter(t)
	const password = "the owner's long password"
	t.Setenv("INSTANCEHUB_ADMIN_PASSWORD", password)
	work := t.TempDir()
	p := startProcessIn(t, work, "serve", "--addr", "127.0.0.1:0", "--data", "./data",
		"--admin-email", "owner@example.com", "--emulator-latency", "0", "--sync-interval", "1h")
	if _, err := os.Stat(filepath.Join(work, "data", "instancehub.db")); err != nil {
		t.Fatalf("the database is not in ./data of the working directory: %v", err)
	}
	owner := newPerson(t, p.url)
	owner.signIn("owner@example.com", password)
	owner.create("rel-box")
	origin := owner.openApp("rel-box", "jupyter")
	if out, errName := execute(t, owner.kernel(origin), "print(6*7)"); out != "42\n" || errName != "" {
		t.Fatalf("the cell printed %q, raised %q; want 42", out, errName)
	}
	// The Terminal too, as azureuser in the instance's home.
	terminal := owner.openApp("rel-box", "terminal")
	if out := typeLine(t, owner.terminal(terminal), "whoami; pwd"); !strings.Contains(out, "azureuser\r\n/home/azureuser\r\n") {
		t.Fatalf("the terminal printed %q, want azureuser in /home/azureuser", out)
	}
	if strings.Contains(p.logs.String(), "jupyter did not start") {
		t.Fatalf("Jupyter failed once:\n%s", p.logs.String())
	}
}
