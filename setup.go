package instancehub

import (
	"context"
	"fmt"
	"path"
	"strings"
	"time"
	"unicode/utf8"
)

// SetupScript is a script an instance runs as root, as the reference's
// setup scripts do: a creation script once when the instance is made, a
// startup script on every start (the first one included). It is given
// inline (Command) or as a file of the owner's files folder (Path, which
// the reference reads from the workspace's file share); exactly one is set.
type SetupScript struct {
	Command   string
	Path      string
	Arguments string        // split on white space, no quoting
	Timeout   time.Duration // DefaultSetupTimeout when zero
}

// SetupScripts are an instance's scripts; a nil one is not run.
type SetupScripts struct {
	Creation *SetupScript
	Startup  *SetupScript
}

// Bounds of a setup script.
const (
	DefaultSetupTimeout = 15 * time.Minute
	MaxSetupTimeout     = 120 * time.Minute
	// MaxSetupCommandLength bounds an inline script, MaxSetupPathLength
	// and MaxSetupArgumentsLength its file's path and its arguments.
	MaxSetupCommandLength   = 64 << 10
	MaxSetupPathLength      = 1024
	MaxSetupArgumentsLength = 4096
	// MaxSetupLogLength bounds the output kept of a run: its tail.
	MaxSetupLogLength = 64 << 10
)

// SetupPhase says which of an instance's scripts ran.
type SetupPhase string

// The phases of setup.
const (
	SetupCreation SetupPhase = "creation"
	SetupStartup  SetupPhase = "startup"
)

// SetupResult is how an instance's last script ran: its output's tail and
// exit code (-1 when it was killed at its timeout or could not start).
type SetupResult struct {
	Phase    SetupPhase
	ExitCode int
	Log      string
	TimedOut bool
	At       time.Time
}

// Failed tells whether the script did not succeed.
func (r *SetupResult) Failed() bool { return r.ExitCode != 0 }

// Summary says in a sentence how it ended.
func (r *SetupResult) Summary() string {
	switch {
	case r.TimedOut:
		return fmt.Sprintf("The %s script was stopped at its timeout.", r.Phase)
	case r.ExitCode == 0:
		return fmt.Sprintf("The %s script succeeded.", r.Phase)
	}
	return fmt.Sprintf("The %s script failed with exit code %d.", r.Phase, r.ExitCode)
}

// SetupRunner runs an instance's setup scripts where the instance runs.
// RunSetup returns the script's result, a failed script included; its
// error is for a script that could not be run at all (EUNAVAILABLE).
type SetupRunner interface {
	RunSetup(ctx context.Context, inst *Instance, phase SetupPhase, script *SetupScript) (*SetupResult, error)
}

// SetupEnvironment is what a script finds in its environment, as the
// reference's: the instance's name, the Linux user people sign in as, and
// where the instance belongs.
func SetupEnvironment(inst *Instance, resourceGroup, workspace string) []string {
	return []string{
		"CI_NAME=" + inst.Name,
		"CI_LOCAL_UBUNTU_USER=" + SSHUser,
		"CI_RESOURCE_GROUP=" + resourceGroup,
		"CI_WORKSPACE=" + workspace,
	}
}

// ScriptFor is the script an instance runs in phase, or nil.
func (s SetupScripts) ScriptFor(phase SetupPhase) *SetupScript {
	if phase == SetupCreation {
		return s.Creation
	}
	return s.Startup
}

// Any tells whether there is a script.
func (s SetupScripts) Any() bool { return s.Creation != nil || s.Startup != nil }

// ValidateSetupScript checks a script and sets its default timeout; the
// field errors are named after prefix ("creation_script").
func ValidateSetupScript(s *SetupScript, prefix string) map[string]string {
	errs := map[string]string{}
	if s == nil {
		return errs
	}
	s.Command = strings.ReplaceAll(s.Command, "\r\n", "\n")
	s.Path = strings.TrimSpace(s.Path)
	switch {
	case s.Command == "" && s.Path == "":
		errs[prefix] = "Give the script inline or the path of a file in your files folder."
	case s.Command != "" && s.Path != "":
		errs[prefix] = "Give the script inline or as a file, not both."
	case len(s.Command) > MaxSetupCommandLength:
		errs[prefix+".command"] = fmt.Sprintf("The script is longer than %d KiB.", MaxSetupCommandLength>>10)
	case !utf8.ValidString(s.Command) || strings.ContainsRune(s.Command, 0):
		errs[prefix+".command"] = "The script must be text."
	case s.Path != "":
		if msg := checkSetupPath(s.Path); msg != "" {
			errs[prefix+".path"] = msg
		}
	}
	if len(s.Arguments) > MaxSetupArgumentsLength || !utf8.ValidString(s.Arguments) || strings.ContainsAny(s.Arguments, "\x00\n") {
		errs[prefix+".arguments"] = fmt.Sprintf("Give the arguments on one line of at most %d characters.", MaxSetupArgumentsLength)
	}
	if s.Timeout == 0 {
		s.Timeout = DefaultSetupTimeout
	}
	if s.Timeout < time.Minute || s.Timeout > MaxSetupTimeout || s.Timeout%time.Minute != 0 {
		errs[prefix+".timeout_minutes"] = fmt.Sprintf("Give a timeout of 1 to %d whole minutes.", int(MaxSetupTimeout/time.Minute))
	}
	return errs
}

// checkSetupPath says what is wrong with a script's path in the owner's
// files folder: it stays inside it.
func checkSetupPath(p string) string {
	clean := path.Clean(strings.TrimPrefix(p, "./"))
	switch {
	case len(p) > MaxSetupPathLength || !utf8.ValidString(p) || strings.ContainsAny(p, "\x00\n\\"):
		return fmt.Sprintf("Give a path of at most %d characters.", MaxSetupPathLength)
	case path.IsAbs(clean) || clean == "." || clean == ".." || strings.HasPrefix(clean, "../"):
		return "Give the path of a file inside your files folder, such as scripts/setup.sh."
	}
	return ""
}

// SetupPath is a valid script path made relative and clean.
func SetupPath(p string) string { return path.Clean(strings.TrimPrefix(strings.TrimSpace(p), "./")) }
