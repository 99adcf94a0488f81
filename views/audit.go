package views

import (
	"net/url"
	"strconv"
	"strings"
	"unicode"

	"github.com/instancehub/instancehub"
)

// auditActions are the actions the filter offers; each is a prefix, but
// "Refused requests", which selects every refusal.
var auditActions = []struct{ value, label string }{
	{"instance.", "Any instance action"},
	{"instance.create", "Create instance"},
	{"instance.start", "Start instance"},
	{"instance.stop", "Stop instance"},
	{"instance.restart", "Restart instance"},
	{"instance.delete", "Delete instance"},
	{"instance.schedule.", "Schedules"},
	{"instance.idleShutdown", "Idle shutdown"},
	{"application.open", "Open application"},
	{"role.", "Any role change"},
	{"quota.", "Quota"},
	{"session.", "Sign-in and sign-out"},
	{"user.", "Accounts"},
	{"token.", "API tokens"},
	{"workspace.", "Workspace settings"},
	{instancehub.AuditRefusals, "Refused requests"},
	{"audit.", "Audit log access"},
}

// actionLabels name the audit log's actions in words.
var actionLabels = map[string]string{
	"application.open":         "Open application",
	"audit.archive":            "Archive the audit log",
	"audit.download":           "Download an audit archive",
	"audit.export":             "Export the audit log",
	"audit.read":               "Read the audit log",
	"instance.adopt":           "Adopt instance",
	"instance.create":          "Create instance",
	"instance.createForm":      "Open the create form",
	"instance.start":           "Start instance",
	"instance.stop":            "Stop instance",
	"instance.restart":         "Restart instance",
	"instance.delete":          "Delete instance",
	"instance.idleShutdown":    "Set idle shutdown",
	"instance.keepRunning":     "Keep running",
	"instance.list":            "List instances",
	"instance.read":            "View instance",
	"instance.refresh":         "Refresh instances",
	"instance.schedule.add":    "Add schedule",
	"instance.sshKey":          "Add SSH key",
	"instance.schedule.delete": "Delete schedule",
	"instance.schedule.edit":   "Edit schedule",
	"data.migrate":             "Copy the data from SQLite",
	"quota.read":               "View quota",
	"quota.update":             "Set workspace quota",
	"request.csrf":             "Cross-site request refused",
	"request.token":            "API token refused",
	"role.assign":              "Assign role",
	"role.list":                "View role assignments",
	"role.remove":              "Remove role assignment",
	"session.signIn":           "Sign in",
	"session.signOut":          "Sign out",
	"token.create":             "Create API token",
	"token.list":               "View everyone's API tokens",
	"token.revoke":             "Revoke API token",
	"token.use":                "First use of API token",
	"user.add":                 "Add user",
	"user.addForm":             "Open the Add user form",
	"user.disable":             "Disable user",
	"user.enable":              "Enable user",
	"user.setPassword":         "Set password with a link",
	"user.unlock":              "Forget sign-in failures",
	"workspace.settings":       "Change workspace settings",
	"workspace.settingsForm":   "View workspace settings",
}

// actionLabel names an action in words; one without a name (an action
// added later) reads as its identifier with its parts spaced out.
func actionLabel(action string) string {
	if label, ok := actionLabels[action]; ok {
		return label
	}
	var b strings.Builder
	for i, r := range strings.ReplaceAll(action, ".", " ") {
		if unicode.IsUpper(r) {
			b.WriteRune(' ')
			r = unicode.ToLower(r)
		}
		if i == 0 {
			r = unicode.ToUpper(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

func resultLabel(r string) string {
	switch r {
	case instancehub.AuditSucceeded:
		return "Succeeded"
	case instancehub.AuditFailed:
		return "Failed"
	case instancehub.AuditDenied:
		return "Denied"
	case instancehub.AuditSkipped:
		return "Skipped"
	}
	return r
}

func auditQueryString(q AuditQuery) string {
	v := url.Values{}
	for k, val := range map[string]string{"user": q.User, "action": q.Action, "target": q.Target, "result": q.Result, "from": q.From, "to": q.To} {
		if val != "" {
			v.Set(k, val)
		}
	}
	return v.Encode()
}

func auditPageURL(q AuditQuery, page int) string {
	s := auditQueryString(q)
	if s != "" {
		s += "&"
	}
	return "/audit?" + s + "page=" + strconv.Itoa(page)
}
