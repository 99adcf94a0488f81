package instancehub

import (
	"fmt"
	"strings"
)

// State is where a compute instance is in its life, in the reference
// product's words.
type State string

// The states of an instance.
const (
	StateCreating     State = "Creating"
	StateCreateFailed State = "CreateFailed"
	StateRunning      State = "Running"
	StateStopping     State = "Stopping"
	StateStopped      State = "Stopped"
	StateStarting     State = "Starting"
	StateRestarting   State = "Restarting"
	StateDeleting     State = "Deleting"
	StateUnusable     State = "Unusable"
	StateUnknown      State = "Unknown"
	// StateMissing marks an instance whose virtual machine no longer exists in
	// Azure although the portal never deleted it. Only Delete applies.
	StateMissing State = "Missing"
	// StateSetupFailed is a created instance whose creation script failed;
	// StateUserSetupFailed a started one whose startup script failed. Both
	// VMs run; the details page shows the script's log.
	StateSetupFailed     State = "SetupFailed"
	StateUserSetupFailed State = "UserSetupFailed"
	// StateDeleted is the end of an instance's life: its row stays for the
	// history of operations but it leaves every list.
	StateDeleted State = "Deleted"
)

// ListedStates are the states an instance in a list or on its page may be
// in: every state but StateDeleted.
var ListedStates = []State{
	StateCreating, StateCreateFailed, StateRunning, StateStopping, StateStopped, StateStarting,
	StateRestarting, StateDeleting, StateUnusable, StateUnknown, StateMissing, StateSetupFailed,
	StateUserSetupFailed,
}

// Transitional reports whether an operation is under way, during which no
// action applies.
func (s State) Transitional() bool {
	switch s {
	case StateCreating, StateStopping, StateStarting, StateRestarting, StateDeleting:
		return true
	}
	return false
}

// Label is the state as people read it.
func (s State) Label() string {
	switch s {
	case StateCreateFailed:
		return "Create failed"
	case StateSetupFailed:
		return "Setup failed"
	case StateUserSetupFailed:
		return "User setup failed"
	case "":
		return string(StateUnknown)
	}
	return string(s)
}

// Tone is how the state is coloured: "success", "progress", "neutral",
// "danger" or "warning".
func (s State) Tone() string {
	switch s {
	case StateRunning:
		return "success"
	case StateStopped, StateDeleted:
		return "neutral"
	case StateCreateFailed, StateSetupFailed, StateUserSetupFailed:
		return "danger"
	case StateUnusable, StateUnknown, StateMissing:
		return "warning"
	}
	if s.Transitional() {
		return "progress"
	}
	return "warning"
}

// Description explains the states that need explaining; it is shown on hover.
func (s State) Description() string {
	switch s {
	case StateMissing:
		return "The virtual machine no longer exists in Azure. Delete the instance to remove it from the list."
	case StateUnusable:
		return "The virtual machine is not working. Restart it to recover, or delete it."
	case StateUnknown:
		return "Azure did not report the state of the virtual machine. Refresh to try again."
	case StateCreateFailed:
		return "Azure could not create the virtual machine. See the last operation for the reason; delete the instance to clean up."
	case StateSetupFailed:
		return "The creation script failed. See the setup log on the details page; delete the instance and create it again."
	case StateUserSetupFailed:
		return "The startup script failed. See the setup log on the details page; restart the instance to run it again, or stop it."
	}
	return ""
}

// OperationKind names an action on an instance.
type OperationKind string

// The operations on an instance.
const (
	OpCreate  OperationKind = "Create"
	OpStart   OperationKind = "Start"
	OpStop    OperationKind = "Stop"
	OpRestart OperationKind = "Restart"
	OpDelete  OperationKind = "Delete"
)

// OperationKinds lists the operations in the order the UI offers them.
var OperationKinds = []OperationKind{OpStart, OpStop, OpRestart, OpDelete}

// ParseOperationKind returns the kind named s (case-insensitively).
func ParseOperationKind(s string) (OperationKind, error) {
	for _, k := range []OperationKind{OpCreate, OpStart, OpStop, OpRestart, OpDelete} {
		if strings.EqualFold(string(k), s) {
			return k, nil
		}
	}
	return "", Errorf(EINVALID, "Unknown operation %q.", s)
}

// Verb is the lower-case verb used in messages ("start").
func (k OperationKind) Verb() string { return strings.ToLower(string(k)) }

// Progressive is the state an instance is in while k runs.
func (k OperationKind) Progressive() State {
	switch k {
	case OpCreate:
		return StateCreating
	case OpStart:
		return StateStarting
	case OpStop:
		return StateStopping
	case OpRestart:
		return StateRestarting
	case OpDelete:
		return StateDeleting
	}
	return StateUnknown
}

// From lists the states an instance may be in for k to apply.
func (k OperationKind) From() []State {
	switch k {
	case OpStart:
		return []State{StateStopped}
	case OpStop:
		return []State{StateRunning, StateUserSetupFailed}
	case OpRestart:
		return []State{StateRunning, StateUnusable, StateUserSetupFailed}
	case OpDelete:
		return []State{StateRunning, StateStopped, StateCreateFailed, StateUnusable, StateUnknown, StateMissing,
			StateSetupFailed, StateUserSetupFailed}
	}
	return nil
}

// Check returns nil when k applies to an instance in state s, otherwise an
// ECONFLICT error that says which states k needs.
func (k OperationKind) Check(s State) error {
	for _, from := range k.From() {
		if s == from {
			return nil
		}
	}
	if s.Transitional() {
		return Errorf(ECONFLICT, "The instance is %s; wait until it finishes before you %s it.", strings.ToLower(s.Label()), k.Verb())
	}
	switch k {
	case OpStart:
		return Errorf(ECONFLICT, "Start is only allowed when the instance is stopped; it is %s.", strings.ToLower(s.Label()))
	case OpStop:
		return Errorf(ECONFLICT, "Stop is only allowed when the instance is running; it is %s.", strings.ToLower(s.Label()))
	case OpRestart:
		return Errorf(ECONFLICT, "Restart is only allowed when the instance is running or unusable; it is %s.", strings.ToLower(s.Label()))
	}
	return Errorf(ECONFLICT, "%s is not allowed when the instance is %s.", k, strings.ToLower(s.Label()))
}

// Reason says in words why k is not available to an instance in state s
// ("Start is not available: the instance is running."), or "" when k
// applies. A disabled action button is described by it.
func (k OperationKind) Reason(s State) string {
	if k.Check(s) == nil {
		return ""
	}
	if s.Transitional() {
		return fmt.Sprintf("%s is not available: the instance is %s; wait until it finishes.", k, strings.ToLower(s.Label()))
	}
	switch s {
	case StateCreateFailed, StateSetupFailed, StateUserSetupFailed, StateUnknown, "":
		return fmt.Sprintf("%s is not available: the instance's state is %s.", k, strings.ToLower(s.Label()))
	}
	return fmt.Sprintf("%s is not available: the instance is %s.", k, strings.ToLower(s.Label()))
}

// OperationStatus is where an operation is.
type OperationStatus string

// The statuses of an operation.
const (
	StatusInProgress OperationStatus = "InProgress"
	StatusSucceeded  OperationStatus = "Succeeded"
	StatusFailed     OperationStatus = "Failed"
)

// Trigger says what started an operation.
type Trigger string

// The triggers of an operation.
const (
	TriggerUser         Trigger = "User"
	TriggerSchedule     Trigger = "Schedule"
	TriggerIdleShutdown Trigger = "IdleShutdown"
)
