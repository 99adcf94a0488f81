package views

import (
	"strconv"
	"time"

	"github.com/instancehub/instancehub"
)

func setupTitle(phase instancehub.SetupPhase) string {
	if phase == instancehub.SetupCreation {
		return "Creation script"
	}
	return "Startup script"
}

func setupCommand(s *instancehub.SetupScript) string {
	if s == nil {
		return ""
	}
	return s.Command
}

func setupPath(s *instancehub.SetupScript) string {
	if s == nil {
		return ""
	}
	return s.Path
}

func setupArguments(s *instancehub.SetupScript) string {
	if s == nil {
		return ""
	}
	return s.Arguments
}

// setupTimeout is the timeout field's value: as typed, when the form comes
// back with it, else the script's whole minutes, else empty (the default).
func setupTimeout(form CreateForm, phase instancehub.SetupPhase, s *instancehub.SetupScript) string {
	if typed, ok := form.SetupTimeouts[phase]; ok {
		return typed
	}
	if s == nil || s.Timeout <= 0 || s.Timeout%time.Minute != 0 {
		return ""
	}
	return strconv.Itoa(int(s.Timeout / time.Minute))
}
