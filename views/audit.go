package views

import (
	"net/url"
	"strconv"

	"github.com/instancehub/instancehub"
)

// auditActions are the actions the filter offers; each is a prefix.
var auditActions = []struct{ value, label string }{
	{"instance.", "Any instance action"},
	{"instance.create", "Create instance"},
	{"instance.start", "Start instance"},
	{"instance.stop", "Stop instance"},
	{"instance.restart", "Restart instance"},
	{"instance.delete", "Delete instance"},
	{"application.open", "Open application"},
	{"role.", "Any role change"},
	{"session.", "Sign-in and sign-out"},
	{"request.", "Refused requests"},
	{"audit.", "Audit log access"},
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
