package views

import (
	"fmt"

	"github.com/instancehub/instancehub"
)

func removeURL(id int64) string { return fmt.Sprintf("/access/%d/delete", id) }

func assignedBy(a *instancehub.RoleAssignment) string {
	if a.AssignedByName != "" {
		return a.AssignedByName
	}
	return "—"
}

func sourceLabel(source string) string {
	switch source {
	case instancehub.SourceCLI:
		return "Command line"
	case instancehub.SourceSSO:
		return "Single sign-on group"
	}
	return "Portal"
}

// unlockPrompt is the unlock picker's first line: what to do, or that
// there is nothing to.
func unlockPrompt(failures map[string]int) string {
	if len(failures) == 0 {
		return "No account has failed sign-ins"
	}
	return "Choose an account with failed sign-ins"
}
