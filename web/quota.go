package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/views"
	"github.com/labstack/echo/v5"
)

func (s *Server) quotaPage(c *echo.Context) error {
	page, err := s.service.Quota(c.Request().Context(), c.QueryParam("region"))
	if err != nil {
		return err
	}
	return s.renderEveryView(c, http.StatusOK, "quota", views.QuotaPage(page, c.QueryParam("view"), views.QuotaForm{}))
}

// setQuota sets or removes (empty) a family's workspace limit.
func (s *Server) setQuota(c *echo.Context) error {
	ctx := c.Request().Context()
	region, family := c.FormValue("region"), c.FormValue("family")
	form := views.QuotaForm{Family: family, Limit: strings.TrimSpace(c.FormValue("limit"))}
	limit, err := instancehub.ParseWorkspaceLimit(form.Limit)
	if err == nil {
		err = s.service.SetWorkspaceLimit(ctx, region, family, limit, c.FormValue("below_use") == "1")
	}
	form.BelowUse = instancehub.ErrorCode(err) == instancehub.ECONFLICT
	if code := instancehub.ErrorCode(err); code == instancehub.EINVALID || form.BelowUse {
		page, perr := s.service.Quota(ctx, region)
		if perr != nil {
			return perr
		}
		form.Error = instancehub.ErrorFields(err)["limit"]
		if form.Error == "" {
			form.Error = instancehub.ErrorMessage(err)
		}
		status := http.StatusUnprocessableEntity
		if form.BelowUse {
			status = http.StatusConflict
		}
		return s.render(c, status, "quota", views.QuotaPage(page, "workspace", form))
	} else if err != nil {
		return err
	}
	label := instancehub.FamilyLabel(family)
	if family == instancehub.TotalRegionalVCPUs {
		label = "the regional total"
	}
	message := fmt.Sprintf("The workspace's limit for %s in %s is now %s.", label, region, instancehub.Plural(limit, "vCPU"))
	if limit < 0 {
		message = fmt.Sprintf("The workspace sets no limit for %s in %s now.", label, region)
	}
	s.setNotice(c, "success", message)
	return c.Redirect(http.StatusSeeOther, "/quota?"+url.Values{"region": {region}}.Encode())
}
