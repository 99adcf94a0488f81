package web_test

import (
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/internal/testportal"
	"github.com/instancehub/instancehub/static"
	"github.com/instancehub/instancehub/web"
)

// persona is who makes a request: nobody signed in, a user without a role,
// or a user holding one role.
type persona string

const (
	anonymous persona = "anonymous"
	noRole    persona = "no role"
	owner     persona = persona(instancehub.RoleOwner)
	contrib   persona = persona(instancehub.RoleContributor)
	operator  persona = persona(instancehub.RoleComputeOperator)
	scientist persona = persona(instancehub.RoleDataScientist)
	reader    persona = persona(instancehub.RoleReader)
	auditor   persona = persona(instancehub.RoleAuditReader)
)

var personas = []persona{anonymous, noRole, owner, contrib, operator, scientist, reader, auditor}

// fixture is what a persona's requests act on: an instance of their own,
// one of another user's, and a role assignment they might remove.
type fixture struct {
	slug       string // unique per persona, for names
	own, other string
	assignment int64
	person     int64 // an account to disable
	// For the API: instances of another user to delete and to act on,
	// the create operation of other, and an assignment to remove.
	del, act      string
	otherOp       int64
	apiAssignment int64
}

// check is one route's expected status for every persona, and how to make
// the request.
type check struct {
	request func(f fixture) (method, path string, form url.Values)
	want    map[persona]int
}

// apiCheck is an API route's check: the request goes with the persona's
// token instead of its cookie, with a body of type contentType.
type apiCheck struct {
	method string
	path   func(f fixture) string
	body   func(f fixture) (contentType, body string)
	want   map[persona]int
}

func apiCall(method string, path func(f fixture) string, body func(f fixture) (string, string), want map[persona]int) apiCheck {
	if body == nil {
		body = func(fixture) (string, string) { return "", "" }
	}
	return apiCheck{method, path, body, want}
}

func at(path string) func(fixture) string { return func(fixture) string { return path } }

func jsonBody(body string) func(fixture) (string, string) {
	return func(fixture) (string, string) { return "application/json", body }
}

const accepted = http.StatusAccepted

var apiRead = statuses(ok, anonymous, http.StatusUnauthorized, noRead, forbidden)

// statuses builds a want map: def for everyone, then the exceptions.
func statuses(def int, except ...any) map[persona]int {
	m := map[persona]int{}
	for _, p := range personas {
		m[p] = def
	}
	for i := 0; i+1 < len(except); i += 2 {
		switch who := except[i].(type) {
		case persona:
			m[who] = except[i+1].(int)
		case []persona:
			for _, p := range who {
				m[p] = except[i+1].(int)
			}
		}
	}
	return m
}

func get(path string) func(fixture) (string, string, url.Values) {
	return func(fixture) (string, string, url.Values) { return http.MethodGet, path, nil }
}

const (
	ok        = http.StatusOK
	redirect  = http.StatusSeeOther
	forbidden = http.StatusForbidden
	notFound  = http.StatusNotFound
	moved     = http.StatusMovedPermanently
)

var (
	noRead     = []persona{noRole, auditor}                    // no instances/read
	noCreate   = []persona{noRole, auditor, reader}            // no instances/create
	notManager = []persona{noRole, auditor, reader, scientist} // no instances/manage
	signedIn   = []persona{noRole, owner, contrib, operator, scientist, reader, auditor}
)

// matrix is every route of the portal against every persona. A route
// missing here fails TestAuthorizationMatrix.
var matrix = map[string]check{
	"GET /healthz":  {get("/healthz"), statuses(ok)},
	"GET /readyz":   {get("/readyz"), statuses(ok)},
	"GET /static/*": {get("/static/css/app.css"), statuses(ok)},
	"GET /login":    {get("/login"), statuses(redirect, anonymous, ok)},
	"POST /login": {func(f fixture) (string, string, url.Values) {
		return "POST", "/login", url.Values{"email": {"nobody-" + f.slug + "@example.com"}, "password": {"wrong password"}}
	}, statuses(http.StatusUnauthorized)},
	"GET /auth/oidc/login":    {get("/auth/oidc/login"), statuses(notFound)},
	"GET /auth/oidc/callback": {get("/auth/oidc/callback?state=x&code=y"), statuses(notFound)},
	"POST /logout":            {func(fixture) (string, string, url.Values) { return "POST", "/logout", nil }, statuses(redirect)},
	"GET /":                   {get("/"), statuses(redirect)},
	"GET /instances":          {get("/instances"), statuses(ok, anonymous, redirect, noRead, forbidden)},
	"POST /instances/refresh": {func(fixture) (string, string, url.Values) { return "POST", "/instances/refresh", nil },
		statuses(redirect, noRead, forbidden)},
	"GET /events":                   {get("/events"), statuses(ok, anonymous, redirect, noRead, forbidden)},
	"GET /instances/new":            {get("/instances/new"), statuses(ok, anonymous, redirect, noCreate, forbidden)},
	"GET /instances/new/check-name": {get("/instances/new/check-name?name=fresh-name"), statuses(ok, anonymous, redirect, noCreate, forbidden)},
	"GET /instances/new/placement":  {get("/instances/new/placement?region=westeurope"), statuses(ok, anonymous, redirect, noCreate, forbidden)},
	"GET /instances/new/subnets":    {get("/instances/new/subnets?region=eastus&virtual_network=vnet-eastus"), statuses(ok, anonymous, redirect, noCreate, forbidden)},
	"GET /instances/new/schedule":   {get("/instances/new/schedule?schedule_count=0"), statuses(ok, anonymous, redirect, noCreate, forbidden)},
	"GET /instances/new/tag":        {get("/instances/new/tag?tag_count=1"), statuses(ok, anonymous, redirect, noCreate, forbidden)},
	// Reviewing makes nothing: a good form is reviewed (200), refused
	// without instances/create.
	"POST /instances/review": {func(f fixture) (string, string, url.Values) {
		return "POST", "/instances/review", url.Values{"name": {"rev-" + f.slug}, "region": {"eastus"}, "vm_size": {"Standard_DS1_v2"}}
	}, statuses(ok, anonymous, redirect, noCreate, forbidden)},
	"POST /instances": {func(f fixture) (string, string, url.Values) {
		return "POST", "/instances", url.Values{"name": {"new-" + f.slug}, "region": {"eastus"}, "vm_size": {"Standard_DS1_v2"}}
	}, statuses(redirect, noCreate, forbidden)},
	// A bulk action is a single action per instance: refusals of rights to
	// an instance come back in the notice (TestBulkActions); without a role
	// there is nothing to select.
	"POST /instances/actions": {func(f fixture) (string, string, url.Values) {
		return "POST", "/instances/actions", url.Values{"action": {"restart"}, "n": {f.other, f.own}}
	}, statuses(redirect, noRead, forbidden)},
	"GET /instances/:name": {func(f fixture) (string, string, url.Values) { return "GET", "/instances/" + f.other, nil },
		statuses(ok, anonymous, redirect, noRead, forbidden)},
	"GET /instances/:name/row": {func(f fixture) (string, string, url.Values) { return "GET", "/instances/" + f.other + "/row", nil },
		statuses(ok, anonymous, redirect, noRead, forbidden)},
	"GET /instances/:name/delete": {func(f fixture) (string, string, url.Values) { return "GET", "/instances/" + f.other + "/delete", nil },
		statuses(ok, anonymous, redirect, notManager, forbidden)},
	// A VM's boot log is the Owners' (instances/boot-log), whoever owns it.
	"GET /instances/:name/boot-log": {func(f fixture) (string, string, url.Values) { return "GET", "/instances/" + f.other + "/boot-log", nil },
		statuses(forbidden, anonymous, redirect, owner, ok)},
	// Acting on another user's instance takes instances/manage; on one's own,
	// instances/manage-own (tested below, in TestActingOnOwnInstances).
	"POST /instances/:name/:action": {func(f fixture) (string, string, url.Values) { return "POST", "/instances/" + f.other + "/stop", nil },
		statuses(redirect, notManager, forbidden)},
	"GET /instances/:name/apps/:app": {func(f fixture) (string, string, url.Values) {
		return "GET", "/instances/" + f.own + "/apps/jupyter", nil
	},
		statuses(moved, anonymous, redirect)},
	// Applications open for their owner only: an Owner of the workspace is
	// refused on someone else's instance (TestApplicationsOpenForTheOwnerOnly
	// covers the owner's side).
	"GET /instances/:name/apps/:app/*": {func(f fixture) (string, string, url.Values) {
		return "GET", "/instances/" + f.other + "/apps/jupyterlab/", nil
	},
		statuses(forbidden, anonymous, redirect)},
	"GET /quota": {get("/quota?region=westeurope"), statuses(ok, anonymous, redirect, noRead, forbidden)},
	"POST /quota": {func(f fixture) (string, string, url.Values) {
		return "POST", "/quota", url.Values{"region": {"eastus"}, "family": {"standardDSv2Family"}, "limit": {"32"}}
	}, statuses(forbidden, anonymous, redirect, owner, redirect)},
	// Those who create instances ask for quota; Owners decide (a request
	// that does not exist is theirs to be told so).
	"GET /quota/requests/new": {get("/quota/requests/new?region=eastus&family=standardDSv2Family&vcpus=4"),
		statuses(ok, anonymous, redirect, noCreate, forbidden)},
	"POST /quota/requests": {func(f fixture) (string, string, url.Values) {
		return "POST", "/quota/requests", url.Values{"region": {"eastus"}, "family": {"standardDSv2Family"}, "vcpus": {"4"}, "reason": {"training"}}
	}, statuses(redirect, noCreate, forbidden)},
	"POST /quota/requests/:id/:verb": {func(f fixture) (string, string, url.Values) {
		return "POST", "/quota/requests/999999/grant", nil
	}, statuses(forbidden, anonymous, redirect, owner, notFound)},
	"GET /access": {get("/access"), statuses(ok, anonymous, redirect, noRead, forbidden)},
	"POST /access": {func(f fixture) (string, string, url.Values) {
		return "POST", "/access", url.Values{"email": {"olive@example.com"}, "role": {"Reader"}}
	}, statuses(forbidden, anonymous, redirect, owner, redirect)},
	"GET /access/people": {get("/access/people"), statuses(ok, anonymous, redirect, noRead, forbidden)},
	"GET /access/people/:id/disable": {func(f fixture) (string, string, url.Values) {
		return "GET", fmt.Sprintf("/access/people/%d/disable", f.person), nil
	}, statuses(forbidden, anonymous, redirect, owner, ok)},
	"POST /access/people/:id/:verb": {func(f fixture) (string, string, url.Values) {
		return "POST", "/access/people/999999/enable", nil
	}, statuses(forbidden, anonymous, redirect, owner, notFound)},
	"GET /access/users/new": {get("/access/users/new"), statuses(forbidden, anonymous, redirect, owner, ok)},
	"POST /access/users": {func(f fixture) (string, string, url.Values) {
		return "POST", "/access/users", url.Values{"email": {"new-" + f.slug + "@example.com"}, "name": {"New " + f.slug}, "role": {"Reader"}}
	}, statuses(forbidden, anonymous, redirect, owner, ok)},
	// Setting a password takes a link, not a session: anyone may try one,
	// and an unknown link is gone for everyone.
	"GET /set-password": {get("/set-password?token=unknown"), statuses(http.StatusGone)},
	"POST /set-password": {func(f fixture) (string, string, url.Values) {
		return "POST", "/set-password", url.Values{"token": {"unknown"}, "password": {"long-enough-1"}, "confirm": {"long-enough-1"}}
	}, statuses(http.StatusGone)},
	"POST /access/unlock": {func(f fixture) (string, string, url.Values) {
		return "POST", "/access/unlock", url.Values{"email": {"ada@example.com"}}
	}, statuses(forbidden, anonymous, redirect, owner, redirect)},
	"GET /access/:id/delete": {func(f fixture) (string, string, url.Values) {
		return "GET", fmt.Sprintf("/access/%d/delete", f.assignment), nil
	}, statuses(forbidden, anonymous, redirect, owner, ok)},
	"POST /access/:id/delete": {func(f fixture) (string, string, url.Values) {
		return "POST", fmt.Sprintf("/access/%d/delete", f.assignment), nil
	}, statuses(forbidden, anonymous, redirect, owner, redirect)},
	// Idle shutdown and schedules are managed as Start and Stop are: by
	// instances/manage for anyone's (instances/manage-own for one's own).
	"POST /instances/:name/idle-shutdown": {func(f fixture) (string, string, url.Values) {
		return "POST", "/instances/" + f.other + "/idle-shutdown", url.Values{"idle_shutdown": {"on"}, "idle_minutes": {"30"}}
	}, statuses(redirect, notManager, forbidden)},
	// Only an instance's owner adds an SSH key to it; the fixtures have SSH
	// off, so the owner hears that, everyone else is refused.
	"POST /instances/:name/ssh-key": {func(f fixture) (string, string, url.Values) {
		return "POST", "/instances/" + f.own + "/ssh-key", url.Values{"ssh_public_key": {"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHb8mN5o0H9GmWQ0jDmK5aS5cOl0pM3r3JQUgD0c0iYv a@b"}}
	}, statuses(http.StatusConflict, anonymous, redirect, []persona{noRole, reader, auditor}, forbidden)},
	"POST /instances/:name/schedules": {func(f fixture) (string, string, url.Values) {
		return "POST", "/instances/" + f.other + "/schedules", url.Values{"action": {"Stop"}, "kind": {"Cron"}, "cron": {"0 18 * * *"}, "time_zone": {"UTC"}}
	}, statuses(redirect, notManager, forbidden)},
	"GET /instances/:name/schedules/:id": {get("/instances/otherpa/schedules/999"), statuses(notFound, anonymous, redirect, notManager, forbidden)},
	"POST /instances/:name/schedules/:id": {func(f fixture) (string, string, url.Values) {
		return "POST", "/instances/" + f.other + "/schedules/999", url.Values{"action": {"Stop"}, "kind": {"Cron"}, "cron": {"0 18 * * *"}, "time_zone": {"UTC"}}
	}, statuses(notFound, anonymous, redirect, notManager, forbidden)},
	"POST /instances/:name/schedules/:id/delete": {func(f fixture) (string, string, url.Values) {
		return "POST", "/instances/" + f.other + "/schedules/999/delete", nil
	}, statuses(notFound, anonymous, redirect, notManager, forbidden)},
	// Only the owner keeps their instance running; with no stop announced,
	// there is nothing to postpone.
	"POST /instances/:name/keep-running": {func(f fixture) (string, string, url.Values) {
		return "POST", "/instances/" + f.own + "/keep-running", nil
	}, statuses(http.StatusConflict, anonymous, redirect, noRead, forbidden)},
	"GET /settings": {get("/settings"), statuses(forbidden, anonymous, redirect, owner, ok)},
	"POST /settings": {func(fixture) (string, string, url.Values) {
		return "POST", "/settings", url.Values{"idle_shutdown": {"on"}, "idle_minutes": {"90"}}
	}, statuses(forbidden, anonymous, redirect, owner, redirect)},
	// Archiving the audit log is the Owners' (audit/archive): the date
	// asked has no event before it, which the page says under the field.
	// Anyone who may read the log may download an archive.
	"GET /settings/audit-archive": {get("/settings/audit-archive?before=2000-01-01"),
		statuses(forbidden, anonymous, redirect, owner, http.StatusUnprocessableEntity)},
	"POST /settings/audit-archive": {func(fixture) (string, string, url.Values) {
		return "POST", "/settings/audit-archive", url.Values{"before": {"2000-01-01"}}
	}, statuses(forbidden, anonymous, redirect, owner, http.StatusUnprocessableEntity)},
	"GET /settings/audit-archives/:id": {get("/settings/audit-archives/999999"),
		statuses(forbidden, anonymous, redirect, owner, notFound, auditor, notFound)},
	"GET /audit":            {get("/audit"), statuses(forbidden, anonymous, redirect, owner, ok, auditor, ok)},
	"GET /audit/export.csv": {get("/audit/export.csv"), statuses(forbidden, anonymous, redirect, owner, ok, auditor, ok)},
	// Tokens: everyone with a role makes their own; Owners see everyone's.
	"GET /tokens": {get("/tokens"), statuses(ok, anonymous, redirect)},
	"POST /tokens": {func(f fixture) (string, string, url.Values) {
		return "POST", "/tokens", url.Values{"name": {"matrix " + f.slug}, "expires": {"7d"}}
	}, statuses(http.StatusCreated, anonymous, redirect, noRole, forbidden)},
	"GET /tokens/:id/revoke": {func(fixture) (string, string, url.Values) { return "GET", "/tokens/999999/revoke", nil },
		statuses(notFound, anonymous, redirect)},
	"POST /tokens/:id/revoke": {func(fixture) (string, string, url.Values) { return "POST", "/tokens/999999/revoke", nil },
		statuses(notFound, anonymous, redirect)},
	"GET /access/tokens":       {get("/access/tokens"), statuses(forbidden, anonymous, redirect, owner, ok)},
	"GET /api/v1/openapi.json": {get("/api/v1/openapi.json"), statuses(ok)},
}

// apiMatrix is every route of the API against every persona, each with
// its token: 401 without one. A route in neither matrix fails
// TestAuthorizationMatrix.
var apiMatrix = map[string]apiCheck{
	"GET /api/v1/computes": apiCall("GET", at("/api/v1/computes"), nil, apiRead),
	"POST /api/v1/computes": apiCall("POST", at("/api/v1/computes"), func(f fixture) (string, string) {
		return "application/yaml", "name: api-" + f.slug + "\ntype: computeinstance\nsize: Standard_DS1_v2\nlocation: eastus\n"
	}, statuses(accepted, anonymous, http.StatusUnauthorized, noCreate, forbidden)),
	"POST /api/v1/computes\\:apply": apiCall("POST", at("/api/v1/computes:apply"), func(f fixture) (string, string) {
		return "application/json", `{"name": "apply-` + f.slug + `", "type": "computeinstance", "size": "standard_ds1_v2", "location": "eastus"}`
	}, statuses(accepted, anonymous, http.StatusUnauthorized, noCreate, forbidden)),
	"GET /api/v1/computes/:name": apiCall("GET", func(f fixture) string { return "/api/v1/computes/" + f.other }, nil, apiRead),
	"DELETE /api/v1/computes/:name": apiCall("DELETE", func(f fixture) string { return "/api/v1/computes/" + f.del }, nil,
		statuses(accepted, anonymous, http.StatusUnauthorized, notManager, forbidden)),
	"POST /api/v1/computes/:name/:action": apiCall("POST", func(f fixture) string { return "/api/v1/computes/" + f.act + "/stop" }, nil,
		statuses(accepted, anonymous, http.StatusUnauthorized, notManager, forbidden)),
	"GET /api/v1/computes/:name/operations": apiCall("GET", func(f fixture) string { return "/api/v1/computes/" + f.other + "/operations" }, nil, apiRead),
	"GET /api/v1/computes/:name/operations/:id": apiCall("GET", func(f fixture) string {
		return fmt.Sprintf("/api/v1/computes/%s/operations/%d", f.other, f.otherOp)
	}, nil, apiRead),
	"GET /api/v1/roleAssignments": apiCall("GET", at("/api/v1/roleAssignments"), nil, apiRead),
	"POST /api/v1/roleAssignments": apiCall("POST", at("/api/v1/roleAssignments"), jsonBody(`{"email": "api-target@example.com", "role": "Reader"}`),
		statuses(forbidden, anonymous, http.StatusUnauthorized, owner, http.StatusCreated)),
	"DELETE /api/v1/roleAssignments/:id": apiCall("DELETE", func(f fixture) string { return fmt.Sprintf("/api/v1/roleAssignments/%d", f.apiAssignment) }, nil,
		statuses(forbidden, anonymous, http.StatusUnauthorized, owner, http.StatusNoContent)),
	"GET /api/v1/quotas": apiCall("GET", at("/api/v1/quotas?region=eastus"), nil, apiRead),
	"PUT /api/v1/quotas/:region/:family": apiCall("PUT", at("/api/v1/quotas/eastus/standardDSv2Family"), jsonBody(`{"limit": 32}`),
		statuses(forbidden, anonymous, http.StatusUnauthorized, owner, ok)),
	"GET /api/v1/quotaRequests": apiCall("GET", at("/api/v1/quotaRequests"), nil,
		statuses(forbidden, anonymous, http.StatusUnauthorized, owner, ok)),
	"POST /api/v1/quotaRequests": apiCall("POST", at("/api/v1/quotaRequests"),
		jsonBody(`{"region": "eastus", "family": "standardDSv3Family", "vcpus": 4, "reason": "training"}`),
		statuses(http.StatusCreated, anonymous, http.StatusUnauthorized, noCreate, forbidden)),
	"POST /api/v1/quotaRequests/:id/:verb": apiCall("POST", at("/api/v1/quotaRequests/999999/grant"), nil,
		statuses(forbidden, anonymous, http.StatusUnauthorized, owner, notFound)),
	"GET /api/v1/auditEvents": apiCall("GET", at("/api/v1/auditEvents"), nil,
		statuses(forbidden, anonymous, http.StatusUnauthorized, owner, ok, auditor, ok)),
}

// allChecks is both matrices as one: the API's checks as requests.
func allChecks() map[string]check {
	all := maps.Clone(matrix)
	for route, c := range apiMatrix {
		all[route] = check{request: func(f fixture) (string, string, url.Values) {
			ctype, body := c.body(f)
			return c.method, c.path(f), url.Values{apiContentType: {ctype}, apiBody: {body}}
		}, want: c.want}
	}
	return all
}

// apiContentType and apiBody carry an API check's body through a check's
// form; a form with them goes with a token.
const apiContentType, apiBody = "\x00api-content-type", "\x00api-body"

// authzSite is a portal with one signed-in client per persona and each
// persona's fixture.
type authzSite struct {
	*site
	clients  map[persona]*http.Client
	tokens   map[persona]string
	fixtures map[persona]fixture
	routes   []string
}

func newAuthzSite(t *testing.T) *authzSite {
	t.Helper()
	p := testportal.Open(t, t.TempDir(), 0)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := web.New(web.Config{Static: static.FS, Logger: log, LocalAccounts: true}, p.Service)
	server := httptest.NewServer(srv.Handler())
	t.Cleanup(server.Close)
	a := &authzSite{site: &site{Portal: p, server: server}, clients: map[persona]*http.Client{}, tokens: map[persona]string{}, fixtures: map[persona]fixture{}, routes: srv.Routes()}
	olive := p.EnsureUser(t, "olive@example.com", "Olive Other", instancehub.RoleDataScientist)
	throwaway := p.EnsureUser(t, "tmp@example.com", "Temporary")
	throwaway2 := p.EnsureUser(t, "tmp2@example.com", "Temporary Two")
	p.EnsureUser(t, "api-target@example.com", "Api Target")
	for i, who := range personas {
		f := fixture{slug: fmt.Sprintf("p%c", 'a'+i)}
		f.own, f.other = "own"+f.slug, "other"+f.slug
		user := olive
		if who != anonymous {
			var roles []instancehub.Role
			if who != noRole {
				roles = append(roles, instancehub.Role(who))
			}
			user = p.EnsureUser(t, f.slug+"@example.com", string(who), roles...)
		}
		f.del, f.act = "del"+f.slug, "act"+f.slug
		for _, name := range []string{f.other, f.del, f.act} {
			seedOne(t, p, name, olive)
		}
		seedOne(t, p, f.own, user)
		other, err := p.DB.FindInstanceByName(p.Ctx, f.other)
		if err != nil {
			t.Fatal(err)
		}
		f.otherOp = other.LastOperation.ID
		a.fixtures[who] = f
		ra := &instancehub.RoleAssignment{UserID: throwaway.ID, Role: instancehub.Roles[i%len(instancehub.Roles)], Source: instancehub.SourceCLI}
		if err := p.DB.AssignRole(p.Ctx, ra); err != nil && instancehub.ErrorCode(err) != instancehub.ECONFLICT {
			t.Fatal(err)
		}
		f.assignment, f.person = ra.ID, throwaway.ID
		ra2 := &instancehub.RoleAssignment{UserID: throwaway2.ID, Role: instancehub.Roles[i%len(instancehub.Roles)], Source: instancehub.SourceCLI}
		if err := p.DB.AssignRole(p.Ctx, ra2); err != nil && instancehub.ErrorCode(err) != instancehub.ECONFLICT {
			t.Fatal(err)
		}
		f.apiAssignment = ra2.ID
		a.fixtures[who] = f
		if who != anonymous {
			a.tokens[who] = matrixToken(t, p, user, who == noRole)
		}
		c := newClient()
		a.clients[who] = c
		if who != anonymous {
			a.site.client = c
			signIn(t, a.site, f.slug+"@example.com")
		}
	}
	return a
}

// matrixToken makes a token for user. Someone with no role gets none, so
// their token is made while they hold a role, which is then removed: a
// token whose user lost their role since.
func matrixToken(t *testing.T, p *testportal.Portal, user *instancehub.User, noRole bool) string {
	t.Helper()
	var lent *instancehub.RoleAssignment
	if noRole {
		lent = &instancehub.RoleAssignment{UserID: user.ID, Role: instancehub.RoleReader, Source: instancehub.SourceCLI}
		if err := p.DB.AssignRole(p.Ctx, lent); err != nil {
			t.Fatal(err)
		}
	}
	created, err := p.Service.CreateTokenFromCLI(p.Ctx, user.Email, instancehub.NewToken{Name: "matrix"})
	if err != nil {
		t.Fatal(err)
	}
	if lent != nil {
		if _, err := p.DB.RemoveRoleAssignment(p.Ctx, lent.ID); err != nil {
			t.Fatal(err)
		}
	}
	return created.Secret
}

// seedOne records a running instance named name owned by owner.
func seedOne(t *testing.T, p *testportal.Portal, name string, owner *instancehub.User) {
	t.Helper()
	p.SeedNamed(t, name, owner)
}

func (a *authzSite) request(t *testing.T, who persona, method, path string, form url.Values) *response {
	t.Helper()
	c := a.clients[who]
	var body io.Reader
	if method == http.MethodPost {
		if form == nil {
			form = url.Values{}
		}
		form.Set("_csrf", a.csrfToken(t, c))
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, a.server.URL+path, body)
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if path == "/events" {
		// A stream of changes never ends: its status is the answer.
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return &response{Response: resp}
	}
	return a.do(t, c, req)
}

// apiRequest sends an API request with the persona's token, and no cookie.
func (a *authzSite) apiRequest(t *testing.T, who persona, method, path, contentType, body string) *response {
	t.Helper()
	req, _ := http.NewRequest(method, a.server.URL+path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token := a.tokens[who]; token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return a.do(t, http.DefaultClient, req)
}

// TestAuthorizationMatrix sends every route as every persona and checks the
// outcome. Logout goes last: it ends the persona's session.
func TestAuthorizationMatrix(t *testing.T) {
	a := newAuthzSite(t)
	matrix := allChecks()
	for _, route := range a.routes {
		if _, ok := matrix[route]; !ok {
			t.Errorf("route %q has no entry in the authorization matrix", route)
		}
	}
	keys := make([]string, 0, len(matrix))
	for k := range matrix {
		if !slices.Contains(a.routes, k) {
			t.Errorf("matrix entry %q is not a route", k)
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	keys = append(slices.DeleteFunc(keys, func(k string) bool { return k == "POST /logout" }), "POST /logout")
	for _, route := range keys {
		c := matrix[route]
		for _, who := range personas {
			method, path, form := c.request(a.fixtures[who])
			var r *response
			if _, isAPI := form[apiBody]; isAPI {
				r = a.apiRequest(t, who, method, path, form.Get(apiContentType), form.Get(apiBody))
			} else {
				r = a.request(t, who, method, path, form)
			}
			if want := c.want[who]; r.StatusCode != want {
				t.Errorf("%s as %s (%s %s): status %d, want %d\n%s", route, who, method, path, r.StatusCode, want, explain(r))
			}
			if want := c.want[who]; want == forbidden && who != noRole && method == http.MethodPost && !strings.Contains(r.body, "permission") {
				t.Errorf("%s as %s: the refusal does not name the missing permission", route, who)
			}
		}
	}
}

// TestActingOnOwnInstances: a Data Scientist manages their own instances,
// a Reader does not even own one's.
func TestActingOnOwnInstances(t *testing.T) {
	a := newAuthzSite(t)
	want := statuses(redirect, anonymous, redirect, noRole, forbidden, reader, forbidden, auditor, forbidden)
	for _, who := range personas {
		if who == anonymous {
			continue
		}
		r := a.request(t, who, "POST", "/instances/"+a.fixtures[who].own+"/stop", nil)
		if r.StatusCode != want[who] {
			t.Errorf("%s stops their own: %d, want %d", who, r.StatusCode, want[who])
		}
	}
}

func TestApplicationsOpenForTheOwnerOnly(t *testing.T) {
	a := newAuthzSite(t)
	for _, who := range signedIn {
		r := a.request(t, who, "GET", "/instances/"+a.fixtures[who].own+"/apps/rstudio/", nil)
		want := ok
		if slices.Contains(noRead, who) {
			want = forbidden
		}
		if r.StatusCode != want {
			t.Errorf("%s opens their own RStudio: %d, want %d", who, r.StatusCode, want)
		}
	}
}

// TestRefusalAsNotice: an htmx request refused for want of a permission
// gets a toast naming the permission, not a broken page, and is audited.
func TestRefusalAsNotice(t *testing.T) {
	a := newAuthzSite(t)
	a.site.client = a.clients[scientist]
	r := a.post(t, "/instances/"+a.fixtures[scientist].other+"/stop", url.Values{"from": {"row"}}, "HX-Request", "true")
	wantStatus(t, r, forbidden)
	if r.Header.Get("HX-Retarget") != "#toasts" {
		t.Errorf("HX-Retarget = %q", r.Header.Get("HX-Retarget"))
	}
	if msg := text(r.doc.Find(".toast-danger")); !strings.Contains(msg, "instances/manage permission") || !strings.Contains(msg, "Compute Operator") {
		t.Errorf("notice = %q", msg)
	}
	log, err := a.Service.AuditEvents(a.Ctx, instancehub.AuditFilter{Action: "instance.stop", Result: instancehub.AuditDenied}, 1)
	if err != nil || log.Total != 1 || log.Events[0].UserEmail != a.fixtures[scientist].slug+"@example.com" || log.Events[0].SourceIP != "127.0.0.1" {
		t.Errorf("audit = %+v, %v", log, err)
	}
}

// explain is what a response says about itself: a page's error or toast,
// or an API's JSON.
func explain(r *response) string {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		return r.body
	}
	return text(r.doc.Find(".error-page, .toast, [data-testid=no-access], [data-testid=login-error]"))
}
