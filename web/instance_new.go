package web

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/a-h/templ"
	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/views"
	"github.com/labstack/echo/v5"
)

func (s *Server) newInstance(c *echo.Context) error {
	if !isHTMX(c) {
		if told, err := s.tellWhileAway(c, false); told || err != nil {
			return err
		}
	}
	opts, err := s.service.CreateOptions(c.Request().Context(), c.QueryParam("region"))
	if err != nil {
		return err
	}
	form := views.CreateForm{Request: instancehub.CreateRequest{Region: opts.Region,
		IdleShutdownOn: opts.Defaults.IdleShutdownOn, IdleMinutes: views.IdleMinutesText(opts.Defaults.IdleShutdown),
		TagRows: []instancehub.Tag{{}}}}
	return s.render(c, http.StatusOK, "compute", views.CreatePage(opts, form))
}

// checkName is the live "name available?" check of the create form.
func (s *Server) checkName(c *echo.Context) error {
	name := c.QueryParam("name")
	err := s.service.CheckName(c.Request().Context(), name)
	if err != nil && instancehub.ErrorCode(err) != instancehub.EINVALID {
		return err
	}
	return s.render(c, http.StatusOK, "compute", views.NameMessage(instancehub.ErrorFields(err)["name"], err == nil))
}

// placement is the region-dependent part of the form, for another region.
func (s *Server) placement(c *echo.Context) error {
	opts, err := s.service.CreateOptions(c.Request().Context(), c.QueryParam("region"))
	if err != nil {
		return err
	}
	form := views.CreateForm{
		Request: instancehub.CreateRequest{Region: opts.Region, VMSize: c.QueryParam("vm_size")},
		Type:    c.QueryParam("type"),
	}
	return s.render(c, http.StatusOK, "compute", templ.Join(views.Placement(opts, form), views.NetworkSection(opts, form, true)))
}

// subnets lists the subnets of the network chosen in the form.
func (s *Server) subnets(c *echo.Context) error {
	opts, err := s.service.CreateOptions(c.Request().Context(), c.QueryParam("region"))
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "compute", views.SubnetField(opts.Networks, c.QueryParam("virtual_network"), "", ""))
}

func parseCreateForm(c *echo.Context) views.CreateForm {
	form := views.CreateForm{
		Request: instancehub.CreateRequest{
			Name:           c.FormValue("name"),
			Region:         c.FormValue("region"),
			VMSize:         c.FormValue("vm_size"),
			SSHEnabled:     c.FormValue("ssh_enabled") != "",
			SSHPublicKey:   c.FormValue("ssh_public_key"),
			SSHKeyLater:    c.FormValue("ssh_key_later") != "",
			VirtualNetwork: c.FormValue("virtual_network"),
			Subnet:         c.FormValue("subnet"),
			AssignTo:       c.FormValue("assign_to"),
			IdleShutdownOn: c.FormValue("idle_shutdown") != "",
			IdleMinutes:    c.FormValue("idle_minutes"),
			Schedules:      parseCreateSchedules(c),
			Description:    c.FormValue("description"),
			TagRows:        parseTagRows(c),
			Identity:       parseIdentity(c.FormValue("identity")),
		},
		Type: c.FormValue("type"),
	}
	parseSetupScripts(c, &form)
	return form
}

// parseTagRows reads the create form's tag rows, and one more, blank, when
// "Add tag" was pressed.
func parseTagRows(c *echo.Context) []instancehub.Tag {
	n, _ := strconv.Atoi(c.FormValue("tag_count"))
	n = min(max(n, 0), instancehub.MaxTags)
	rows := make([]instancehub.Tag, 0, n+1)
	for i := range n {
		rows = append(rows, instancehub.Tag{Name: c.FormValue(fmt.Sprintf("tag-%d-name", i)), Value: c.FormValue(fmt.Sprintf("tag-%d-value", i))})
	}
	if c.FormValue("add_tag") != "" && n < instancehub.MaxTags {
		rows = append(rows, instancehub.Tag{})
	}
	return rows
}

// parseIdentity reads the identity chosen: none, the system-assigned one,
// or the resource ID of a user-assigned one.
func parseIdentity(v string) instancehub.ManagedIdentity {
	switch v {
	case "", views.IdentityNone:
		return instancehub.ManagedIdentity{}
	case views.IdentitySystem:
		return instancehub.ManagedIdentity{SystemAssigned: true}
	}
	return instancehub.ManagedIdentity{UserAssigned: []string{v}}
}

// createFormAgain shows the create form again with everything entered
// kept: as asked (a row added, Back from the review), or, when invalid
// says why, with a message by each field that needs one (422).
func (s *Server) createFormAgain(c *echo.Context, form views.CreateForm, invalid error) error {
	opts, err := s.service.CreateOptions(c.Request().Context(), form.Request.Region)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if invalid != nil {
		form.Errors, form.Message = instancehub.ErrorFields(invalid), instancehub.ErrorMessage(invalid)
		status = http.StatusUnprocessableEntity
	}
	return s.render(c, status, "compute", views.CreatePage(opts, form))
}

// createInstance creates, or shows the form again with a message by each
// field that needs one and everything entered kept.
func (s *Server) createInstance(c *echo.Context) error {
	ctx := c.Request().Context()
	form := parseCreateForm(c)
	if showFormAgain(c) {
		return s.createFormAgain(c, form, nil)
	}
	inst, err := s.service.CreateInstance(ctx, form.Request)
	if instancehub.ErrorCode(err) == instancehub.EINVALID {
		return s.createFormAgain(c, form, err)
	} else if err != nil {
		return err
	}
	s.setNotice(c, "success", fmt.Sprintf("Creating %s. It takes a few minutes; the list shows its progress.", inst.Name))
	return c.Redirect(http.StatusSeeOther, "/instances")
}
