package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestRefresh copies the listed files from a checkout, as a work tree and
// as a git directory without one (a snapshot's), and writes SOURCES with the
// checkout's commit and each file's SHA-256; a file the checkout lacks
// fails the refresh.
func TestRefresh(t *testing.T) {
	const path = "specification/compute/x/skus.json"
	repo := t.TempDir()
	run := func(dir string, args ...string) string {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v: %s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	run(repo, "init", "-q")
	if err := os.MkdirAll(filepath.Join(repo, "specification/compute/x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(repo, path), []byte("{\"swagger\": \"2.0\"}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run(repo, "add", ".")
	run(repo, "commit", "-q", "-m", "spec")
	commit := run(repo, "rev-parse", "HEAD")
	bare := filepath.Join(t.TempDir(), "specs.git")
	run(repo, "clone", "-q", "--bare", repo, bare)

	for _, checkout := range []string{repo, bare} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "SOURCES"), []byte("# listed\n"+path+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := refresh(checkout, dir); err != nil {
			t.Fatalf("%s: %v", checkout, err)
		}
		if b, err := os.ReadFile(filepath.Join(dir, path)); err != nil || string(b) != "{\"swagger\": \"2.0\"}\n" {
			t.Errorf("%s: copied %q, %v", checkout, b, err)
		}
		sources, err := ReadSources(filepath.Join(dir, "SOURCES"))
		if err != nil || len(sources) != 1 {
			t.Fatalf("%s: SOURCES %+v, %v", checkout, sources, err)
		}
		if s := sources[0]; s.Path != path || s.Commit != commit || len(s.SHA256) != 64 {
			t.Errorf("%s: SOURCES line %+v, want the path, %s and a SHA-256", checkout, s, commit)
		}

		if err := os.WriteFile(filepath.Join(dir, "SOURCES"), []byte(path+"\nspecification/missing.json\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := refresh(checkout, dir); err == nil || !strings.Contains(err.Error(), "missing.json") {
			t.Errorf("%s: a file the checkout lacks: %v", checkout, err)
		}
	}
}
