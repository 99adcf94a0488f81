package localapps

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Where things are inside a sandbox: the Data Science VM's home, the
// owner's files where Azure ML mounts the workspace's file share, the
// folder of Jupyter's socket, and Jupyter's read-only configuration. As on
// Azure ML, ~/cloudfiles is a link to the share's mount, outside the home:
// so nothing is mounted inside the home, where the sandbox's user could
// put a link in the way of a mount.
const (
	sandboxHome   = "/home/azureuser"
	sandboxShare  = "/mnt/cloudfiles"
	sandboxCode   = sandboxShare + "/code"
	sandboxRun    = "/run/instancehub"
	sandboxSocket = sandboxRun + "/jupyter.sock"
	sandboxConfig = "/etc/instancehub"
	// sandboxUser is the user inside, uid 1000 as on a Linux VM's first
	// account when the sandbox has a user namespace of its own.
	sandboxUser = "azureuser"
	insideID    = 1000
)

// systemEtc is what of the machine's /etc the sandbox sees, read-only:
// what the dynamic linker, Python, R, Jupyter, bash and the terminal read
// (R's /usr/lib/R/etc is a link to /etc/R).
// Nothing else of /etc is there: no shadow, no SSH keys, no portal
// configuration. passwd, group, hosts and hostname are the sandbox's own.
var systemEtc = []string{
	"alternatives", "bash.bashrc", "ca-certificates", "debian_version", "inputrc", "jupyter", "ld.so.cache",
	"ld.so.conf", "ld.so.conf.d", "locale.alias", "localtime", "matplotlibrc", "mime.types", "nsswitch.conf",
	"os-release", "profile", "profile.d", "python3", "python3.11", "R", "ssl", "terminfo", "timezone",
}

// environment is all a sandbox's processes inherit: nothing of the portal's.
func environment(user string) []string {
	return []string{
		"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + sandboxHome, "USER=" + user,
		"LANG=C.UTF-8", "TERM=xterm-256color", "SHELL=/bin/bash",
	}
}

// rootEnvironment is what a setup script inherits, as root: nothing of
// the portal's.
func rootEnvironment() []string {
	return []string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "USER=root",
		"LANG=C.UTF-8", "SHELL=/bin/bash",
	}
}

// sandbox is one instance's bubblewrap sandbox: namespaces of its own
// (mount, PID, network with its own loopback only, IPC, UTS), the machine's
// /usr and the few files of /etc that Jupyter needs read-only, a private
// /tmp, and three folders of the data directory: the instance's home, the
// owner's files and the folder of Jupyter's socket.
type sandbox struct {
	bwrap    string
	hostname string
	// home, code and run are the folders of the data directory mounted at
	// sandboxHome, sandboxCode and sandboxRun.
	home, code, run string
	// user is who runs inside (see users).
	user sandboxUserID
	// memory bounds the data memory of each process, in bytes; tmp the
	// size of /tmp and of /dev/shm, whose pages count nowhere else.
	memory, tmp int64
	// processes bounds the processes and threads of the sandbox.
	processes int
	// files are written inside, read-only, by path: Jupyter's
	// configuration, the terminal page's scripts.
	files map[string][]byte
	// asRoot runs argv as root inside, in a user namespace whose uid 0 is
	// the sandbox's user outside (a setup script); env is added to its
	// environment.
	asRoot bool
	env    []string
}

// command returns the bwrap command that runs argv in the sandbox, with
// the pipes that carry its files and its status (see start).
func (sb *sandbox) command(argv []string) (*exec.Cmd, *pipes, error) {
	p := &pipes{}
	args := []string{
		"--die-with-parent", "--new-session",
		"--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
		"--hostname", sb.hostname,
	}
	switch {
	case sb.user.root:
		// bwrap runs as root to mount the folders of the data directory,
		// which only root may reach, then setpriv (below) becomes the
		// owner's uid for good, without capabilities.
		args = append(args, "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID")
	case sb.asRoot:
		args = append(args, "--unshare-user", "--disable-userns", "--uid", "0", "--gid", "0")
	default:
		args = append(args, "--unshare-user", "--disable-userns",
			"--uid", strconv.Itoa(insideID), "--gid", strconv.Itoa(insideID))
	}
	args = append(args, "--clearenv")
	env := environment(sandboxUser)
	if sb.asRoot {
		env = append(rootEnvironment(), sb.env...)
		// root's home is a tmpfs of its own, writable whoever root
		// maps to outside, and gone when the script ends, as /tmp.
		args = append(args, "--perms", "1777", "--size", strconv.FormatInt(sb.tmp, 10), "--tmpfs", "/root")
	}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		args = append(args, "--setenv", k, v)
	}
	args = append(args, "--ro-bind", "/usr", "/usr")
	for _, dir := range []string{"bin", "sbin", "lib", "lib32", "lib64", "libx32"} {
		if _, err := os.Stat("/usr/" + dir); err == nil {
			args = append(args, "--symlink", "usr/"+dir, "/"+dir)
		}
	}
	tmp := strconv.FormatInt(sb.tmp, 10)
	args = append(args, "--proc", "/proc", "--dev", "/dev",
		"--perms", "1777", "--size", tmp, "--tmpfs", "/tmp",
		"--perms", "1777", "--size", tmp, "--tmpfs", "/dev/shm")
	// bwrap makes the parents of what it mounts with the mode of what it
	// mounts (0700 for the data directory's folders): these are made
	// first, readable by all as on any machine.
	for _, dir := range []string{"/etc", "/home", "/mnt", sandboxShare, "/run", sandboxConfig} {
		args = append(args, "--perms", "0755", "--dir", dir)
	}
	for _, name := range systemEtc {
		args = append(args, "--ro-bind-try", "/etc/"+name, "/etc/"+name)
	}
	args = append(args,
		"--bind", sb.home, sandboxHome,
		"--bind", sb.code, sandboxCode,
		"--bind", sb.run, sandboxRun,
		"--chdir", sandboxHome)
	files := map[string][]byte{
		"/etc/passwd":   fmt.Appendf(nil, "%s:x:%d:%d:Azure user:%s:/bin/bash\n", sandboxUser, sb.user.inside, sb.user.inside, sandboxHome),
		"/etc/group":    fmt.Appendf(nil, "%s:x:%d:\n", sandboxUser, sb.user.inside),
		"/etc/hosts":    fmt.Appendf(nil, "127.0.0.1 localhost %s\n::1 localhost\n", sb.hostname),
		"/etc/hostname": []byte(sb.hostname + "\n"),
	}
	if sb.asRoot {
		files["/etc/passwd"] = append([]byte("root:x:0:0:root:/root:/bin/bash\n"), files["/etc/passwd"]...)
		files["/etc/group"] = append([]byte("root:x:0:\n"), files["/etc/group"]...)
	}
	for path, b := range sb.files {
		files[path] = b
	}
	paths := make([]string, 0, len(files))
	for path := range files {
		paths = append(paths, path)
	}
	slices.Sort(paths)
	made := map[string]bool{"/etc": true, sandboxConfig: true}
	for _, path := range paths {
		for _, dir := range parents(path) {
			if !made[dir] {
				made[dir] = true
				args = append(args, "--perms", "0755", "--dir", dir)
			}
		}
		fd, err := p.data(files[path])
		if err != nil {
			p.close()
			return nil, nil, err
		}
		args = append(args, "--perms", "0644", "--ro-bind-data", strconv.Itoa(fd), path)
	}
	fd, err := p.info()
	if err != nil {
		p.close()
		return nil, nil, err
	}
	args = append(args, "--info-fd", strconv.Itoa(fd), "--")
	if sb.user.root {
		id := strconv.FormatUint(uint64(sb.user.outside), 10)
		args = append(args, "/usr/bin/setpriv", "--reuid="+id, "--regid="+id, "--clear-groups",
			"--inh-caps=-all", "--bounding-set=-all", "--")
		if sb.asRoot {
			// The owner's uid becomes root of a user namespace of its own:
			// root over the sandbox's files, nothing outside.
			args = append(args, "/usr/bin/unshare", "--user", "--map-root-user", "--")
		}
	}
	args = append(args, limits(sb.memory, sb.processes)...)
	cmd := exec.Command(sb.bwrap, append(args, argv...)...)
	cmd.Env = []string{} // bwrap's own environment: nothing of the portal's either
	cmd.ExtraFiles = p.child
	return cmd, p, nil
}

// limits are the resource limits of every process of a sandbox, set by
// util-linux's prlimit (in /usr/bin) before Jupyter starts: data memory
// per process (RLIMIT_DATA: the heap and private mappings, which a
// Python allocation that exceeds it fails with MemoryError), processes
// and threads (RLIMIT_NPROC, counted per user of the sandbox's user
// namespace, or per owner's uid when the portal runs as root), and no core
// files. See the README on why rlimits rather than cgroups here.
func limits(memory int64, processes int) []string {
	mem := strconv.FormatInt(memory, 10)
	nproc := strconv.Itoa(processes)
	return []string{"/usr/bin/prlimit", "--data=" + mem + ":" + mem, "--nproc=" + nproc + ":" + nproc, "--core=0:0", "--"}
}

// parents lists the folders above path, outermost first.
func parents(path string) []string {
	var dirs []string
	for dir := filepath.Dir(path); dir != "/"; dir = filepath.Dir(dir) {
		dirs = append([]string{dir}, dirs...)
	}
	return dirs
}

// sandboxUserID is who a sandbox's processes are.
type sandboxUserID struct {
	// root: the portal runs as root, and the sandbox's processes run as
	// outside, an unprivileged uid of the configured range (the same as
	// inside); otherwise they run as the portal's own user outside and as
	// insideID in a user namespace of their own.
	root    bool
	outside uint32
	inside  uint32
}
