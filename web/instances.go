package web

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/views"
	"github.com/labstack/echo/v5"
)

// parseListQuery reads the list's filters from the query string or, for
// Refresh, the form that carries them. The list's rows show only what a
// brief read has (InstanceFilter.Brief; TestListRowsFromABriefRead).
func parseListQuery(c *echo.Context) instancehub.ListQuery {
	page, _ := strconv.Atoi(c.FormValue("page"))
	return instancehub.ListQuery{
		Brief:    true,
		OnlyMine: c.FormValue("mine") != "",
		Owner:    c.FormValue("owner"),
		OldImage: c.FormValue("oldimage") != "",
		Search:   c.FormValue("q"),
		Sort:     instancehub.InstanceSort(c.FormValue("sort")),
		Page:     page,
	}
}

func (s *Server) listInstances(c *echo.Context) error {
	if !isHTMX(c) {
		if told, err := s.tellWhileAway(c, true); told || err != nil {
			return err
		}
	}
	list, err := s.service.ListInstances(c.Request().Context(), parseListQuery(c))
	if err != nil {
		return err
	}
	if htmxTarget(c) == "instance-list" {
		return s.render(c, http.StatusOK, "compute", views.InstanceList(list))
	}
	if list.Owners, err = s.service.InstanceOwners(c.Request().Context()); err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "compute", views.InstancesPage(list))
}

// refreshInstances reconciles with Azure, then shows the list as filtered.
func (s *Server) refreshInstances(c *echo.Context) error {
	ctx := c.Request().Context()
	report, err := s.service.Refresh(ctx)
	if err != nil {
		return err
	}
	notice := views.Notice{Tone: "success", Message: refreshMessage(report)}
	if !isHTMX(c) {
		s.setNotice(c, notice.Tone, notice.Message)
		return c.Redirect(http.StatusSeeOther, "/instances")
	}
	list, err := s.service.ListInstances(ctx, parseListQuery(c))
	if err != nil {
		return err
	}
	return s.renderWithNotice(c, http.StatusOK, views.InstanceList(list), notice)
}

// refreshMessage says what a Refresh found, in words for its numbers.
func refreshMessage(r instancehub.SyncReport) string {
	switch {
	case r.Changed == 0 && r.Checked == 0:
		return "Refreshed: no instance to compare with Azure."
	case r.Changed == 0 && r.Checked == 1:
		return "Refreshed: the instance is as Azure reports it."
	case r.Changed == 0:
		return fmt.Sprintf("Refreshed: all %d instances are as Azure reports them.", r.Checked)
	case r.Missing == 1:
		return fmt.Sprintf("Refreshed: %d changed outside the portal, 1 no longer exists in Azure.", r.Changed)
	case r.Missing > 0:
		return fmt.Sprintf("Refreshed: %d changed outside the portal, %d no longer exist in Azure.", r.Changed, r.Missing)
	}
	return fmt.Sprintf("Refreshed: %d changed outside the portal.", r.Changed)
}
