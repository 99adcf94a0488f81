// Package views holds the portal's templ components: a layout, one file per
// page, and small shared parts. Components get their data as parameters;
// only cross-cutting values (the signed-in user, the CSRF token, the
// current section) travel in the context.
package views

import (
	"context"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/a-h/templ"

	"github.com/instancehub/instancehub"
)

// Page is what every page needs from the request.
type Page struct {
	User      *instancehub.User
	CSRFToken string
	Workspace string
	// Section marks the current entry of the left navigation.
	Section string
	// Notice is a message carried over a redirect, shown as a toast.
	Notice *Notice
	// StaticVersion is appended to static URLs so browsers fetch new files
	// after an upgrade: the web server's hash of the files it serves.
	StaticVersion string
	// Rows, when set, keeps the list's rows as rendered (rows.go).
	Rows *Rows
}

// can reports whether the signed-in user holds p; the navigation and the
// toolbars show only what a user may use.
func can(ctx context.Context, p instancehub.Permission) bool {
	return page(ctx).User.Can(p)
}

// Notice is a toast: the result of an action.
type Notice struct {
	Tone    string // "success", "danger", "info"
	Message string
	// Stays keeps a success or info toast until it is dismissed, as a
	// refusal is: an answer someone waited for, told once.
	Stays bool
}

type pageKey struct{}

// WithPage returns a copy of ctx carrying p.
func WithPage(ctx context.Context, p *Page) context.Context {
	return context.WithValue(ctx, pageKey{}, p)
}

func page(ctx context.Context) *Page {
	if p, ok := ctx.Value(pageKey{}).(*Page); ok {
		return p
	}
	return &Page{}
}

func csrfHeaders(ctx context.Context) string {
	return fmt.Sprintf(`{"X-CSRF-Token": %q}`, page(ctx).CSRFToken)
}

// timeText is the server's rendering of a time: UTC, in the format the
// browser then turns into the viewer's time zone.
func timeText(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("Jan 2, 2006, 15:04") + " UTC"
}

func timeISO(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func instanceURL(name string) string { return "/instances/" + url.PathEscape(name) }

func actionURL(name string, kind instancehub.OperationKind) string {
	return instanceURL(name) + "/" + strings.ToLower(string(kind))
}

func appURL(name, slug string) string { return instanceURL(name) + "/apps/" + slug + "/" }

func bootLogURL(name string) string { return instanceURL(name) + "/boot-log" }

func sizeKiB(bytes int) string { return fmt.Sprint(bytes >> 10) }

func memory(gib float64) string {
	if gib == float64(int(gib)) {
		return fmt.Sprintf("%d", int(gib))
	}
	return fmt.Sprintf("%.1f", gib)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

// sizeSummary is "4 vCPUs · 14 GiB · 1 GPU".
func sizeSummary(vcpus int, gib float64, gpus int) string {
	s := fmt.Sprintf("%s · %s GiB", plural(vcpus, "vCPU", "vCPUs"), memory(gib))
	if gpus > 0 {
		s += " · " + plural(gpus, "GPU", "GPUs")
	}
	return s
}

// inProgress returns the operation under way on inst, if any.
func inProgress(inst *instancehub.Instance) *instancehub.Operation {
	if op := inst.LastOperation; op != nil && op.Status == instancehub.StatusInProgress {
		return op
	}
	return nil
}

// lastFailure returns the last operation of inst if it failed.
func lastFailure(inst *instancehub.Instance) *instancehub.Operation {
	if op := inst.LastOperation; op != nil && op.Status == instancehub.StatusFailed {
		return op
	}
	return nil
}

// progressText is "Creating: network interface".
func progressText(inst *instancehub.Instance) string {
	op := inProgress(inst)
	if op == nil || op.Step == "" {
		return ""
	}
	return inst.State.Label() + ": " + op.Step
}

func failureText(op *instancehub.Operation) string {
	msg := op.ErrorMessage
	if msg == "" {
		msg = "Azure reported a failure."
	}
	return fmt.Sprintf("%s failed: %s", op.Kind, msg)
}

// htmxConfig keeps htmx within the Content-Security-Policy (no inline
// styles: neither its indicator styles nor the style attribute it would copy
// while settling a swapped element, which Chromium blocks and reports) and
// lets error responses swap, so that refusals arrive as toasts. Swapped
// content is processed at once (no settle delay): a row swapped in listens
// for its instance's changes from that moment, where htmx's 20 ms delay left
// a window in which a change was heard by no one.
const htmxConfig = `{"includeIndicatorStyles":false,"allowEval":false,"defaultSettleDelay":0,"attributesToSettle":["class","width","height"],"responseHandling":[{"code":"204","swap":false},{"code":"[23]..","swap":true},{"code":"[45]..","swap":true,"error":true}]}`

// staticURL is the URL of a static file, with the page's StaticVersion
// ("dev" without one).
func staticURL(ctx context.Context, path string) string {
	version := page(ctx).StaticVersion
	if version == "" {
		version = "dev"
	}
	return "/static/" + path + "?v=" + version
}

func toastRole(tone string) string {
	if tone == "danger" {
		return "alert"
	}
	return "status"
}

func initials(name string) string {
	var out []rune
	for _, f := range strings.Fields(name) {
		out = append(out, []rune(strings.ToUpper(f))[0])
		if len(out) == 2 {
			break
		}
	}
	if len(out) == 0 {
		return "?"
	}
	return string(out)
}

func duration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm %02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh %02dm", int(d.Hours()), int(d.Minutes())%60)
}

func urlQuery(s string) string { return url.QueryEscape(s) }

// plain neutralises text that someone else typed — a name, an email, an
// audit target — for display: the Unicode controls that reorder text
// (bidirectional embeddings, overrides and isolates) are dropped, so that
// "‮moc.elpmaxe@yda" cannot pass for another person's name.
func plain(s string) string {
	if !strings.ContainsFunc(s, isBidiControl) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if isBidiControl(r) {
			return -1
		}
		return r
	}, s)
}

func isBidiControl(r rune) bool {
	switch {
	case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069, r == 0x200E, r == 0x200F, r == 0x061C:
		return true
	}
	return false
}

// inUse says what runs on an instance's Jupyter: "2 kernels (1 busy), 1
// open in a notebook; 1 terminal".
func inUse(a instancehub.Activity) string {
	var parts []string
	if a.Kernels > 0 {
		k := plural(a.Kernels, "kernel", "kernels")
		var more []string
		if a.BusyKernels > 0 {
			more = append(more, fmt.Sprintf("%d busy", a.BusyKernels))
		}
		if a.Connections > 0 {
			more = append(more, fmt.Sprintf("%d connected", a.Connections))
		}
		if len(more) > 0 {
			k += " (" + strings.Join(more, ", ") + ")"
		}
		parts = append(parts, k)
	}
	if a.Terminals > 0 {
		parts = append(parts, plural(a.Terminals, "terminal", "terminals")+" open")
	}
	return strings.Join(parts, "; ")
}

// progressLine says what an operation in progress is doing, before the time
// it started: "Creating: virtual network, started".
func progressLine(state, step string) string {
	if step != "" {
		state += ": " + step
	}
	return state + ", started"
}

// rolesText lists roles in words, "No role" for none.
func rolesText(roles []instancehub.Role) string {
	if len(roles) == 0 {
		return "No role"
	}
	names := make([]string, len(roles))
	for i, r := range roles {
		names[i] = string(r)
	}
	return strings.Join(names, ", ")
}

// peopleAction is where a user's Disable or Enable goes.
func peopleAction(u *instancehub.User) string {
	verb := "disable"
	if !u.DisabledAt.IsZero() {
		verb = "enable"
	}
	return fmt.Sprintf("/access/people/%d/%s", u.ID, verb)
}

// disableQuestion is what the Users tab asks before disabling u.
func disableQuestion(u *instancehub.User) string {
	name := plain(u.Name)
	return "Disable " + name + "? " + name + " is signed out at once and cannot sign in. Their API tokens are revoked and stay revoked: " +
		"enabling the account again does not bring them back. An unused link to set their password stops working. Their instances stay as they are."
}

// tokenRevokeURL is where a token's Revoke posts; from the Owners' list it
// returns there.
func tokenRevokeURL(t *instancehub.APIToken, all bool) string {
	u := fmt.Sprintf("/tokens/%d/revoke", t.ID)
	if all {
		u += "?from=all"
	}
	return u
}

// currentPage marks the link to the page being shown (aria-current="page"),
// which tabs and screen readers both read.
func currentPage(on bool) templ.Attributes {
	if on {
		return templ.Attributes{"aria-current": "page"}
	}
	return nil
}

// sortedKeys lists a map's keys in order, for tags to read the same on
// every visit.
func sortedKeys(m map[string]string) []string {
	return slices.Sorted(maps.Keys(m))
}

// identityName is the name at the end of a user-assigned identity's
// resource ID.
func identityName(id string) string {
	return id[strings.LastIndex(id, "/")+1:]
}

// DisableConfirm asks before disabling u, as the Users tab's dialog does.
func DisableConfirm(u *instancehub.User) Confirm {
	q := disableQuestion(u)
	i := strings.Index(q, "?") + 1
	return Confirm{Question: q[:i], Detail: strings.TrimSpace(q[i:]), Verb: "Disable", Action: peopleAction(u), Back: "/access/people"}
}

// RemoveRoleConfirm asks before removing a, as the access page's dialog does.
func RemoveRoleConfirm(a *instancehub.RoleAssignment) Confirm {
	return Confirm{
		Question: "Remove the " + string(a.Role) + " role from " + plain(a.UserName) + "?",
		Detail:   plain(a.UserName) + " (" + plain(a.UserEmail) + ") loses what the role allows at once; with no role left, they are signed out.",
		Verb:     "Remove", Action: removeURL(a.ID), Back: "/access",
	}
}

// RevokeConfirm asks before revoking t, as the tokens page's dialog does.
func RevokeConfirm(t *instancehub.APIToken, all bool) Confirm {
	back := "/tokens"
	if all {
		back = "/access/tokens"
	}
	return Confirm{
		Question: "Revoke the token " + plain(t.Name) + "?",
		Detail:   revokeDetail, Verb: "Revoke", Action: tokenRevokeURL(t, all), Back: back,
	}
}

const revokeDetail = "Programs that use it are refused from then on. A revoked token stays revoked: make a new one to give access again."
