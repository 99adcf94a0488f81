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
