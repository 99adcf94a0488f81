package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/views"
	"github.com/labstack/echo/v5"
)

// act starts a Start, Stop, Restart or Delete. htmx requests get the row or
// the details back with a toast; plain forms are redirected.
func (s *Server) act(c *echo.Context) error {
	ctx := c.Request().Context()
	kind, err := instancehub.ParseOperationKind(c.Param("action"))
	if err != nil || kind == instancehub.OpCreate {
		return echo.ErrNotFound
	}
	// A Stop, Restart or Delete that would end what is in use (a notebook
	// connected, a terminal open) asks first, unless the person has seen
	// what it would end.
	if c.FormValue("confirmed") == "" {
		inst, loss, err := s.service.ActionLoss(ctx, c.Param("name"), kind)
		if err != nil {
			return err
		}
		if loss != "" {
			return s.askFirst(c, inst, kind, loss)
		}
	}
	inst, err := s.service.Act(ctx, c.Param("name"), kind)
	if err != nil {
		return err
	}
	s.closeApplications(kind, inst.Name)
	notice := views.Notice{Tone: "success", Message: actionMessage(kind, inst.Name)}
	if billing := s.service.StoppedBilling(inst); kind == instancehub.OpStop && billing != "" {
		notice.Message = fmt.Sprintf("Stopping %s. %s", inst.Name, billing)
	}
	if !isHTMX(c) {
		s.setNotice(c, notice.Tone, notice.Message)
		if c.FormValue("from") == "detail" && kind != instancehub.OpDelete {
			return c.Redirect(http.StatusSeeOther, "/instances/"+inst.Name)
		}
		return c.Redirect(http.StatusSeeOther, "/instances")
	}
	if c.FormValue("from") == "detail" {
		detail, err := s.service.InstanceDetail(ctx, inst.Name)
		if err != nil {
			return err
		}
		return s.renderWithNotice(c, http.StatusOK, views.Detail(detail), notice)
	}
	return s.renderWithNotice(c, http.StatusOK, views.InstanceRow(inst), notice)
}

func actionMessage(kind instancehub.OperationKind, name string) string {
	switch kind {
	case instancehub.OpStart:
		return fmt.Sprintf("Starting %s.", name)
	case instancehub.OpStop:
		return fmt.Sprintf("Stopping %s. Billing for its compute ends once it is stopped.", name)
	case instancehub.OpRestart:
		return fmt.Sprintf("Restarting %s.", name)
	}
	return fmt.Sprintf("Deleting %s.", name)
}

// confirmDelete asks before a delete, for browsers without JavaScript.
func (s *Server) confirmDelete(c *echo.Context) error {
	inst, loss, err := s.service.ActionLoss(c.Request().Context(), c.Param("name"), instancehub.OpDelete)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "compute", views.ConfirmDeletePage(inst, loss))
}

// askFirst asks before kind of inst, which would end loss: with htmx, in
// the page's dialog (app.js, on the instancehub:ask event), which sends the
// action again, confirmed; without script, on a page of its own.
func (s *Server) askFirst(c *echo.Context, inst *instancehub.Instance, kind instancehub.OperationKind, loss string) error {
	from := c.FormValue("from")
	if !isHTMX(c) {
		return s.render(c, http.StatusOK, "compute", views.ConfirmActionPage(inst, kind, loss, from))
	}
	ask, err := json.Marshal(map[string]map[string]string{"instancehub:ask": {
		"question": fmt.Sprintf("%s %s? %s", kind, inst.Name, loss), "verb": string(kind),
		"url": "/instances/" + url.PathEscape(inst.Name) + "/" + strings.ToLower(string(kind)), "from": from,
	}})
	if err != nil {
		return err
	}
	c.Response().Header().Set("HX-Trigger", string(ask))
	return c.NoContent(http.StatusNoContent)
}

// addSSHKey has Azure add the owner's key to their running instance, and
// shows the details page again, with the key's message next to its field
// when it was refused.
func (s *Server) addSSHKey(c *echo.Context) error {
	ctx, name, key := c.Request().Context(), c.Param("name"), c.FormValue("ssh_public_key")
	// Azure takes a minute or two; the answer waits for it.
	_ = http.NewResponseController(c.Response()).SetWriteDeadline(time.Now().Add(instancehub.SSHKeyTimeout + time.Minute))
	_, err := s.service.AddSSHKey(ctx, name, key)
	if instancehub.ErrorCode(err) == instancehub.EINVALID {
		detail, derr := s.service.InstanceDetail(ctx, name)
		if derr != nil {
			return derr
		}
		forms := views.DetailForms{SSHKey: key, KeyError: instancehub.ErrorMessage(err)}
		return s.render(c, http.StatusUnprocessableEntity, "compute", views.DetailPageWith(detail, forms))
	}
	return s.backToDetail(c, name, err, "Azure added your SSH key to "+name+"; the SSH command on this page now lets you in.")
}

// closeApplications closes the open applications of instances an action
// other than Start was just begun on: they are no longer running.
func (s *Server) closeApplications(kind instancehub.OperationKind, names ...string) {
	if s.cfg.Applications == nil || kind == instancehub.OpStart {
		return
	}
	for _, name := range names {
		s.cfg.Applications.Revoke(name)
	}
}
