package localapps

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// nobody is the unprivileged user the portal runs as in
// TestSandboxUnderAnUnprivilegedPortal when the tests run as root.
const nobody = 65534

// TestSandboxUnderAnUnprivilegedPortal: a portal that is not root (this
// test binary run again as nobody when the tests run as root, as itself
// otherwise) makes its sandboxes with a user namespace of their own:
// azureuser is uid 1000 inside and the portal's user outside, and the
// sandbox sees none of the portal's files either.
func TestSandboxUnderAnUnprivilegedPortal(t *testing.T) {
	jupyter := realJupyter(t)
	dir := t.TempDir()
	// The program and a data directory the unprivileged portal can reach.
	for d := dir; d != filepath.Dir(os.TempDir()) && d != "/"; d = filepath.Dir(d) {
		if strings.HasPrefix(d, os.TempDir()+"/") {
			_ = os.Chmod(d, 0o755)
		}
	}
	program := filepath.Join(dir, "localapps.test")
	if err := copyFile(os.Args[0], program); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o700); err != nil {
		t.Fatal(err)
	}
	portal := exec.Command(program, "-test.run=^TestHelperUnprivilegedPortal$", "-test.v")
	portal.Env = []string{"LOCALAPPS_HELPER_UNPRIVILEGED=" + jupyter, "LOCALAPPS_HELPER_DATA=" + data, "PATH=/usr/bin:/bin"}
	uid := os.Getuid()
	if os.Geteuid() == 0 {
		uid = nobody
		if err := os.Chown(data, nobody, nobody); err != nil {
			t.Fatal(err)
		}
		portal.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	}
	portal.Dir = dir
	out, err := portal.CombinedOutput()
	results := map[string]string{}
	lines := bufio.NewScanner(strings.NewReader(string(out)))
	for lines.Scan() {
		if k, v, ok := strings.Cut(lines.Text(), "="); ok && strings.HasPrefix(k, "result ") {
			results[strings.TrimPrefix(k, "result ")] = v
		}
	}
	if err != nil || len(results) == 0 {
		t.Fatalf("the unprivileged portal: %v\n%s", err, out)
	}
	want := map[string]string{
		"uid": "1000", "user": "azureuser", "cwd": "/home/azureuser", "data": "False", "program": "False",
		"file owner": fmt.Sprint(uid),
	}
	for k, v := range want {
		if results[k] != v {
			t.Errorf("%s = %q, want %q\n%s", k, results[k], v, out)
		}
	}
}

// TestHelperUnprivilegedPortal is the portal of
// TestSandboxUnderAnUnprivilegedPortal: it opens Jupyter, has a kernel say
// who and where it is and what it sees, and prints it.
func TestHelperUnprivilegedPortal(t *testing.T) {
	jupyter := os.Getenv("LOCALAPPS_HELPER_UNPRIVILEGED")
	if jupyter == "" {
		return // run only as the helper
	}
	data := os.Getenv("LOCALAPPS_HELPER_DATA")
	s := newServersWith(t, Config{Jupyter: jupyter, DataDir: data})
	inst := running("vm1", 4)
	open(t, s, inst, jupyterApp)
	out := execute(t, kernelOf(t, s, inst.Name, inst.AppSecret), fmt.Sprintf(`import os, pwd
open("mine.txt", "w").write("x")
print("result uid=%%d" %% os.getuid())
print("result user=" + pwd.getpwuid(os.getuid()).pw_name)
print("result cwd=" + os.getcwd())
print("result data=%%s" %% os.path.exists(%q))
print("result program=%%s" %% os.path.exists(%q))`, data, os.Args[0]))
	fmt.Print(out)
	st, err := os.Stat(filepath.Join(instanceFolders(data, inst).home, "mine.txt"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("result file owner=%d\n", st.Sys().(*syscall.Stat_t).Uid)
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
