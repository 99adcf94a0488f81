package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The fixtures hold what the index must get right: a fix superseded by a
// later one, a vulnerability brought back after its fix (no fixed version,
// or govulncheck would skip every later version), a module with no fix, the
// standard library, and two affected modules in one entry.
func TestBuildIndexesTheOSVFiles(t *testing.T) {
	out := filepath.Join(t.TempDir(), "vulndb")
	if err := run("testdata/osv", out, "2026-11-05T23:49:57Z"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"db.json", "modules.json", "vulns.json"} {
		assertSameJSON(t, filepath.Join("testdata/want/index", name), filepath.Join(out, "index", name))
	}
	for _, id := range []string{"GO-2099-0001", "GO-2099-0002", "GO-2099-0003"} {
		want, _ := os.ReadFile(filepath.Join("testdata/osv", id+".json"))
		got, err := os.ReadFile(filepath.Join(out, "ID", id+".json"))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("ID/%s.json is not the OSV file as it came (err %v)", id, err)
		}
	}
}

func TestDatabaseTimeIsTheVersionsWhenNoEntryIsLater(t *testing.T) {
	out := filepath.Join(t.TempDir(), "vulndb")
	if err := run("testdata/osv", out, "2027-01-01T00:00:00Z"); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(filepath.Join(out, "index", "db.json"))
	if string(got) != `{"modified":"2027-01-01T00:00:00Z"}` {
		t.Errorf("db.json = %s", got)
	}
}

// A rebuild replaces the folder whole: nothing of an older version lingers.
func TestBuildReplacesTheOldDatabase(t *testing.T) {
	out := filepath.Join(t.TempDir(), "vulndb")
	stale := filepath.Join(out, "ID", "GO-2000-9999.json")
	if err := os.MkdirAll(filepath.Dir(stale), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stale, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run("testdata/osv", out, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("the old database's entry is still there (stat: %v)", err)
	}
	entries, _ := os.ReadDir(filepath.Dir(out))
	if len(entries) != 1 {
		t.Errorf("the build left %d folders beside the database, want none", len(entries)-1)
	}
}

func TestBuildRefusesAFileNamedOtherThanItsEntry(t *testing.T) {
	dir := t.TempDir()
	b, _ := os.ReadFile("testdata/osv/GO-2099-0001.json")
	if err := os.WriteFile(filepath.Join(dir, "GO-2099-0009.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "vulndb")
	err := run(dir, out, "")
	if err == nil || !strings.Contains(err.Error(), `holds entry "GO-2099-0001"`) {
		t.Fatalf("run = %v, want a refusal naming the entry", err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a failed build left a database behind (stat: %v)", err)
	}
}

func assertSameJSON(t *testing.T, wantFile, gotFile string) {
	t.Helper()
	var want, got any
	for file, v := range map[string]*any{wantFile: &want, gotFile: &got} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
	}
	wantJSON, _ := json.Marshal(want)
	gotJSON, _ := json.Marshal(got)
	if !bytes.Equal(wantJSON, gotJSON) {
		t.Errorf("%s:\n got %s\nwant %s", filepath.Base(gotFile), gotJSON, wantJSON)
	}
}
