package pgtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
)

// TestReapOrphans: a throwaway cluster whose test process is gone (it
// crashed before Run could stop it) is stopped and removed by the next
// one's start; a live process's cluster, and one without an owner yet, are
// left.
func TestReapOrphans(t *testing.T) {
	tmp := t.TempDir()
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	cluster := func(name, owner string) string {
		dir := filepath.Join(tmp, clusterPrefix+name)
		if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
			t.Fatal(err)
		}
		if owner != "" {
			if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(owner), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	orphan := cluster("orphan", strconv.Itoa(gone.Process.Pid))
	mine := cluster("mine", strconv.Itoa(os.Getpid()))
	making := cluster("making", "")
	var stopped []string
	reapOrphans(tmp, func(data string) { stopped = append(stopped, data) })
	if !slices.Equal(stopped, []string{filepath.Join(orphan, "data")}) {
		t.Errorf("stopped %q, want the orphan's alone", stopped)
	}
	if _, err := os.Stat(orphan); !os.IsNotExist(err) {
		t.Errorf("the orphan's directory is still there (%v)", err)
	}
	for _, dir := range []string{mine, making} {
		if _, err := os.Stat(dir); err != nil {
			t.Errorf("%s: %v", dir, err)
		}
	}
}
