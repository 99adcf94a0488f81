// Command azurespecs refreshes azure/testdata/specs from a checkout of
// github.com/Azure/azure-rest-api-specs (MIT): the OpenAPI files and the
// x-ms-examples the azure package's contract and replay tests read. The
// files are those SOURCES lists; each is copied as it is at the checkout's
// HEAD, and SOURCES is written again with that commit and each file's
// SHA-256. The checkout is a work tree, or a git directory without one (as
// a snapshot of the repository comes).
//
//	go run ./internal/tools/azurespecs -checkout ~/src/azure-rest-api-specs
package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

func main() {
	checkout := flag.String("checkout", "", "a checkout of Azure/azure-rest-api-specs: a work tree or a git directory")
	dir := flag.String("dir", "azure/testdata/specs", "the folder of the copies and of SOURCES")
	flag.Parse()
	if *checkout == "" {
		fmt.Fprintln(os.Stderr, "azurespecs: -checkout is required (make azure-specs SPECS=<checkout>)")
		os.Exit(2)
	}
	if err := refresh(*checkout, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "azurespecs:", err)
		os.Exit(1)
	}
}

// Source is one line of SOURCES: a file's path in the repository, the
// commit it was copied from and its SHA-256.
type Source struct{ Path, Commit, SHA256 string }

const header = `# Files of github.com/Azure/azure-rest-api-specs (MIT License) that the azure
# package's contract and replay tests read, each as its path in that
# repository, the commit it was copied from and its SHA-256. Refreshed by
# make azure-specs SPECS=<checkout>, which copies every file listed here from
# the checkout's HEAD; list a new file here first. Only the API versions of
# the SDK modules in go.mod: Compute 2026-04-01 (resource SKUs 2021-07-01),
# Network 2025-05-01, Authorization 2022-04-01.
`

// ReadSources reads SOURCES.
func ReadSources(path string) ([]Source, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Source
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := strings.TrimSpace(s.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		src := Source{Path: fields[0]}
		if len(fields) > 1 {
			src.Commit = fields[1]
		}
		if len(fields) > 2 {
			src.SHA256 = fields[2]
		}
		out = append(out, src)
	}
	return out, s.Err()
}

func refresh(checkout, dir string) error {
	sourcesPath := filepath.Join(dir, "SOURCES")
	sources, err := ReadSources(sourcesPath)
	if err != nil {
		return err
	}
	worktree := true
	if _, err := os.Stat(filepath.Join(checkout, "specification")); err != nil {
		worktree = false // a git directory: read the files from HEAD
	}
	commit, err := git(checkout, worktree, "rev-parse", "HEAD")
	if err != nil {
		return fmt.Errorf("the checkout's commit: %w", err)
	}
	var out bytes.Buffer
	out.WriteString(header)
	for _, src := range sources {
		var b []byte
		if worktree {
			b, err = os.ReadFile(filepath.Join(checkout, filepath.FromSlash(src.Path)))
		} else {
			var s string
			s, err = git(checkout, false, "show", "HEAD:"+src.Path)
			b = []byte(s)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", src.Path, err)
		}
		dst := filepath.Join(dir, filepath.FromSlash(src.Path))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		fmt.Fprintf(&out, "%s %s %s\n", src.Path, strings.TrimSpace(commit), hex.EncodeToString(sum[:]))
	}
	return os.WriteFile(sourcesPath, out.Bytes(), 0o644)
}

// git runs git in a work tree (-C) or on a git directory (--git-dir) and
// returns what it printed.
func git(checkout string, worktree bool, args ...string) (string, error) {
	where := []string{"--git-dir", checkout}
	if worktree {
		where = []string{"-C", checkout}
	}
	cmd := exec.Command("git", append(where, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return string(b), nil
}
