package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/instancehub/instancehub"
	"github.com/labstack/echo/v5"
)

// The API's role assignments, quota and audit log: the same service calls
// as the access control, quota and audit pages.

type roleAssignmentJSON struct {
	ID         string    `json:"id"`
	Role       string    `json:"role"`
	UserName   string    `json:"userName"`
	UserEmail  string    `json:"userEmail"`
	AssignedBy string    `json:"assignedBy,omitempty"`
	AssignedAt time.Time `json:"assignedAt"`
	Source     string    `json:"source"`
}

func roleAssignmentOf(a *instancehub.RoleAssignment) roleAssignmentJSON {
	return roleAssignmentJSON{ID: strconv.FormatInt(a.ID, 10), Role: string(a.Role), UserName: a.UserName, UserEmail: a.UserEmail,
		AssignedBy: a.AssignedByName, AssignedAt: a.AssignedAt, Source: a.Source}
}

// apiRoleAssignments lists the role assignments; ?role= keeps one role's.
func (s *Server) apiRoleAssignments(c *echo.Context) error {
	var role instancehub.Role
	if v := c.QueryParam("role"); v != "" {
		var err error
		if role, err = instancehub.ParseRole(v); err != nil {
			return err
		}
	}
	page, err := s.service.RoleAssignments(c.Request().Context(), role)
	if err != nil {
		return err
	}
	out := listJSON[roleAssignmentJSON]{Value: make([]roleAssignmentJSON, 0, len(page.Assignments)), Count: len(page.Assignments)}
	for _, a := range page.Assignments {
		out.Value = append(out.Value, roleAssignmentOf(a))
	}
	return s.sendJSON(c, http.StatusOK, out)
}

// apiAssignRole gives a user a role: {"email": …, "role": …}.
func (s *Server) apiAssignRole(c *echo.Context) error {
	var body struct {
		Email string `json:"email"`
		Role  string `json:"role"`
	}
	if err := readJSON(c, &body); err != nil {
		return err
	}
	role, err := instancehub.ParseRole(body.Role)
	if err != nil {
		return err
	}
	a, err := s.service.AssignRole(c.Request().Context(), body.Email, role)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, apiPrefix+"/roleAssignments/"+strconv.FormatInt(a.ID, 10))
	return s.sendJSON(c, http.StatusCreated, roleAssignmentOf(a))
}

// apiRemoveRole removes a role assignment.
func (s *Server) apiRemoveRole(c *echo.Context) error {
	id, ok := idParam(c)
	if !ok {
		return instancehub.Errorf(instancehub.ENOTFOUND, "There is no role assignment %q.", instancehub.Clip(c.Param("id"), 40))
	}
	if _, err := s.service.RemoveRoleAssignment(c.Request().Context(), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

type quotaJSON struct {
	Region  string         `json:"region"`
	Regions []string       `json:"regions"`
	Value   []quotaRowJSON `json:"value"`
	Total   quotaRowJSON   `json:"total"`
}

type quotaRowJSON struct {
	Name         string      `json:"name"`
	Label        string      `json:"label"`
	Unit         string      `json:"unit"`
	Subscription usageJSON   `json:"subscription"`
	Workspace    wsUsageJSON `json:"workspace"`
}

type usageJSON struct {
	CurrentValue int `json:"currentValue"`
	Limit        int `json:"limit"`
}

// wsUsageJSON is the workspace's use; its limit is null when it sets none.
type wsUsageJSON struct {
	CurrentValue int  `json:"currentValue"`
	Limit        *int `json:"limit"`
}

func quotaRowOf(r instancehub.QuotaRow) quotaRowJSON {
	out := quotaRowJSON{Name: r.Name, Label: r.Label, Unit: "Count",
		Subscription: usageJSON{CurrentValue: r.SubscriptionUsed, Limit: r.SubscriptionLimit},
		Workspace:    wsUsageJSON{CurrentValue: r.WorkspaceUsed}}
	if r.WorkspaceLimit >= 0 {
		limit := r.WorkspaceLimit
		out.Workspace.Limit = &limit
	}
	return out
}

// apiQuota answers a region's quota (?region=, the default region when
// absent), for the subscription and the workspace, by VM family.
func (s *Server) apiQuota(c *echo.Context) error {
	page, err := s.service.Quota(c.Request().Context(), c.QueryParam("region"))
	if err != nil {
		return err
	}
	if r := c.QueryParam("region"); r != "" && r != page.Region {
		return instancehub.FieldError("region", "There is no region "+instancehub.Clip(r, instancehub.MaxResourceNameLength)+" here.")
	}
	out := quotaJSON{Region: page.Region, Value: make([]quotaRowJSON, 0, len(page.Rows)), Total: quotaRowOf(page.Total)}
	for _, r := range page.Regions {
		out.Regions = append(out.Regions, r.Name)
	}
	for _, r := range page.Rows {
		out.Value = append(out.Value, quotaRowOf(r))
	}
	return s.sendJSON(c, http.StatusOK, out)
}

// apiSetQuota sets the workspace's limit of a family in a region:
// {"limit": N}, or {"limit": null} for none; a limit below the family's
// use is 409 unless "belowUse": true.
func (s *Server) apiSetQuota(c *echo.Context) error {
	var body struct {
		Limit    *int `json:"limit"`
		BelowUse bool `json:"belowUse"`
	}
	if err := readJSON(c, &body); err != nil {
		return err
	}
	limit := -1
	if body.Limit != nil {
		if *body.Limit < 0 {
			return instancehub.FieldError("limit", "The limit is a whole number of vCPUs from 0, or null for none.")
		}
		limit = *body.Limit
	}
	ctx := c.Request().Context()
	if err := s.service.SetWorkspaceLimit(ctx, c.Param("region"), c.Param("family"), limit, body.BelowUse); err != nil {
		return err
	}
	page, err := s.service.Quota(ctx, c.Param("region"))
	if err != nil {
		return err
	}
	for _, r := range append(page.Rows, page.Total) {
		if r.Name == c.Param("family") {
			return s.sendJSON(c, http.StatusOK, quotaRowOf(r))
		}
	}
	return instancehub.Errorf(instancehub.ENOTFOUND, "There is no quota family %s.", c.Param("family"))
}

type auditEventJSON struct {
	ID       string    `json:"id"`
	Time     time.Time `json:"time"`
	User     string    `json:"userName,omitempty"`
	Email    string    `json:"userEmail,omitempty"`
	Action   string    `json:"action"`
	Target   string    `json:"target,omitempty"`
	Result   string    `json:"result"`
	Reason   string    `json:"reason,omitempty"`
	SourceIP string    `json:"sourceIp,omitempty"`
	Count    int       `json:"count"`
}

// apiAuditEvents lists the audit log, newest first, filtered as the audit
// page is (?user=, ?action=, ?target=, ?result=, ?from=, ?to=, ?page=).
func (s *Server) apiAuditEvents(c *echo.Context) error {
	page, err := pageParam(c)
	if err != nil {
		return err
	}
	_, f, err := parseAuditQuery(c)
	if err != nil {
		return err
	}
	events, err := s.service.AuditEvents(c.Request().Context(), f, page)
	if err != nil {
		return err
	}
	out := listJSON[auditEventJSON]{Value: make([]auditEventJSON, 0, len(events.Events)), Count: events.Total,
		NextLink: s.nextLink(c, page, events.Pages)}
	for _, e := range events.Events {
		out.Value = append(out.Value, auditEventJSON{ID: strconv.FormatInt(e.ID, 10), Time: e.At, User: e.UserName, Email: e.UserEmail,
			Action: e.Action, Target: e.Target, Result: e.Result, Reason: e.Reason, SourceIP: e.SourceIP, Count: e.Count})
	}
	return s.sendJSON(c, http.StatusOK, out)
}
