package engine

import (
	"context"
	"errors"

	"github.com/instancehub/instancehub"
)

// setupFailed is an operation whose setup script failed: the VM was made
// or started, and the instance is left in state (SetupFailed or
// UserSetupFailed) rather than a silent Running.
type setupFailed struct {
	state  instancehub.State
	result *instancehub.SetupResult
}

func (e *setupFailed) Error() string { return e.result.Summary() }

// setupStep is the step a script runs in, recorded as Azure's steps are:
// an operation resumed there runs its script again.
func setupStep(phase instancehub.SetupPhase) string { return string(phase) + " script" }

// phases are the scripts that run after the cloud's steps of kind: the
// creation script and the startup script after a create (the first start),
// the startup script after a start or restart.
func phases(kind instancehub.OperationKind) []instancehub.SetupPhase {
	switch kind {
	case instancehub.OpCreate:
		return []instancehub.SetupPhase{instancehub.SetupCreation, instancehub.SetupStartup}
	case instancehub.OpStart, instancehub.OpRestart:
		return []instancehub.SetupPhase{instancehub.SetupStartup}
	}
	return nil
}

// runSetup runs inst's scripts for op once the cloud's steps are done,
// keeping each run's result. A script that fails, or cannot be run, ends
// the operation with a *setupFailed; errLetGo when progress cannot be
// recorded. first is the step op resumes at.
func (e *Engine) runSetup(ctx context.Context, op *instancehub.Operation, inst *instancehub.Instance, first string) error {
	all := phases(op.Kind)
	for i, phase := range all {
		if setupStep(phase) == first {
			all = all[i:]
		}
	}
	for _, phase := range all {
		script := inst.Setup.ScriptFor(phase)
		if script == nil {
			continue
		}
		op.Step, op.ResumeToken = setupStep(phase), ""
		if err := e.saveProgress(ctx, op); err != nil {
			return err
		}
		result, err := e.setupRunner().RunSetup(ctx, inst, phase, script)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			result = &instancehub.SetupResult{Phase: phase, ExitCode: -1, Log: instancehub.ErrorMessage(err) + "\n"}
		}
		result.At = e.Now().UTC()
		if err := e.Instances.RecordSetupRun(ctx, inst.ID, result); err != nil {
			e.Logger.WarnContext(ctx, "record setup run", "instance", inst.Name, "err", err)
		}
		if result.Failed() {
			state := instancehub.StateUserSetupFailed
			if phase == instancehub.SetupCreation {
				state = instancehub.StateSetupFailed
			}
			return &setupFailed{state: state, result: result}
		}
	}
	return nil
}

// setupRunner is the engine's SetupRunner, or one that says scripts cannot
// run here.
func (e *Engine) setupRunner() instancehub.SetupRunner {
	if e.Setup != nil {
		return e.Setup
	}
	return noSetup{}
}

type noSetup struct{}

func (noSetup) RunSetup(context.Context, *instancehub.Instance, instancehub.SetupPhase, *instancehub.SetupScript) (*instancehub.SetupResult, error) {
	return nil, instancehub.Errorf(instancehub.EUNAVAILABLE, "This portal cannot run setup scripts on its instances.")
}

// setupState is the state a failed script leaves its instance in, if opErr
// is one.
func setupState(opErr error) (instancehub.State, bool) {
	var sf *setupFailed
	if errors.As(opErr, &sf) {
		return sf.state, true
	}
	return "", false
}

func isSetup(opErr error) bool {
	_, ok := setupState(opErr)
	return ok
}
