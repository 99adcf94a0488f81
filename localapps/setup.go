package localapps

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/instancehub/instancehub"
)

var _ instancehub.SetupRunner = (*Servers)(nil)

// setupScriptPath is where an inline script is, read-only, inside.
const setupScriptPath = sandboxConfig + "/setup.sh"

// RunSetup runs an offline instance's setup script in the instance's
// sandbox, as the reference runs it on the VM: as root, with the CI_
// variables, in root's home, for at most its timeout. Root is the root of
// a user namespace of the sandbox's own, whose uid 0 is the sandbox's user
// outside: it has the instance's home, the owner's files and nothing else
// of the machine, as Jupyter has. The script's file, when it is one, is
// read from the owner's files (~/cloudfiles/code). Its output (stdout and
// stderr) is kept, its last MaxSetupLogLength bytes. EUNAVAILABLE when no
// sandbox can be made here (or Config.Unsafe): a script never runs as the
// portal's user.
func (s *Servers) RunSetup(ctx context.Context, inst *instancehub.Instance, phase instancehub.SetupPhase, script *instancehub.SetupScript) (*instancehub.SetupResult, error) {
	if s.cfg.Unsafe {
		return nil, instancehub.Errorf(instancehub.EUNAVAILABLE, "Setup scripts run only in a sandbox, and the portal runs Jupyter without one (--unsafe-local-apps).")
	}
	if reason := s.Check(); reason != "" {
		return nil, instancehub.Errorf(instancehub.EUNAVAILABLE, "%s", reason)
	}
	sb, err := s.setupSandbox(inst, script)
	if err != nil {
		return nil, err
	}
	argv := []string{"/bin/bash", setupScriptPath}
	if script.Path != "" {
		argv[1] = sandboxCode + "/" + instancehub.SetupPath(script.Path)
	}
	argv = append(argv, strings.Fields(script.Arguments)...)
	cmd, p, err := sb.command(argv)
	if err != nil {
		return nil, fmt.Errorf("the setup sandbox of %s: %w", inst.Name, err)
	}
	timeout := script.Timeout
	if timeout <= 0 {
		timeout = instancehub.DefaultSetupTimeout
	}
	// The log's room, less the cut's line.
	proc, err := startProcess(cmd, inst.AppSecret, instancehub.MaxSetupLogLength-64, p)
	if err != nil {
		return nil, instancehub.Errorf(instancehub.EUNAVAILABLE, "The sandbox of %s did not start: %v", inst.Name, err)
	}
	result := &instancehub.SetupResult{Phase: phase}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-proc.done:
		result.ExitCode = cmd.ProcessState.ExitCode()
	case <-timer.C:
		proc.stop()
		result.ExitCode, result.TimedOut = -1, true
	case <-ctx.Done():
		proc.stop()
		return nil, ctx.Err()
	}
	proc.stop() // whatever the script left running in its sandbox
	result.Log = proc.output()
	if proc.out.cut {
		result.Log = "[…earlier output cut]\n" + result.Log
	}
	if result.TimedOut {
		result.Log += fmt.Sprintf("\n[instancehub: stopped after its timeout of %s]\n", timeout)
	}
	return result, nil
}

// setupSandbox is the sandbox a setup script of inst runs in: its folders,
// as its Jupyter has them, its limits, root, the script inline.
func (s *Servers) setupSandbox(inst *instancehub.Instance, script *instancehub.SetupScript) (*sandbox, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, instancehub.Errorf(instancehub.EUNAVAILABLE, "The portal is shutting down.")
	}
	user, err := s.userOf(inst.OwnerID)
	if err != nil {
		return nil, err
	}
	f := instanceFolders(s.cfg.DataDir, inst)
	if srv := s.servers[inst.Name]; srv == nil || srv.exited() {
		// No Jupyter of it runs (the instance is being made or started):
		// the folders may be prepared, as serverFor does.
		if err := f.prepare(user, true); err != nil {
			return nil, fmt.Errorf("prepare the folders of %s: %w", inst.Name, err)
		}
	}
	memory := s.cfg.MemoryMax
	if vm := int64(inst.MemoryGiB * (1 << 30)); vm > 0 && vm < memory {
		memory = vm
	}
	files := map[string][]byte{}
	if script.Command != "" {
		files[setupScriptPath] = []byte(script.Command)
	}
	return &sandbox{
		bwrap: s.cfg.Bwrap, hostname: strings.ToLower(inst.Name), user: user,
		home: f.home, code: f.code, run: f.run,
		memory: memory, tmp: memory, processes: s.cfg.Processes, files: files,
		asRoot: true, env: instancehub.SetupEnvironment(inst, "offline", "instancehub"),
	}, nil
}
