package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/views"
	"github.com/labstack/echo/v5"
)

// quotaRequestPage is the form that asks the Owners for more quota,
// prefilled from the size the quota cannot fit.
func (s *Server) quotaRequestPage(c *echo.Context) error {
	vcpus, _ := strconv.Atoi(c.QueryParam("vcpus"))
	draft, err := s.service.QuotaRequestDraft(c.Request().Context(), c.QueryParam("region"), c.QueryParam("family"), vcpus)
	if err != nil {
		return err
	}
	form := views.QuotaRequestForm{Request: draft, VCPUs: strconv.Itoa(draft.VCPUs)}
	return s.render(c, http.StatusOK, "compute", views.QuotaRequestPage(form))
}

// requestQuota sends a quota request, then goes back to the create form.
func (s *Server) requestQuota(c *echo.Context) error {
	r := &instancehub.QuotaRequest{Region: c.FormValue("region"), Family: c.FormValue("family"), Reason: c.FormValue("reason")}
	form := views.QuotaRequestForm{Request: r, VCPUs: strings.TrimSpace(c.FormValue("vcpus"))}
	vcpus, err := instancehub.ParseQuotaRequestVCPUs(form.VCPUs)
	if err == nil {
		r.VCPUs = vcpus
		err = s.service.RequestQuota(c.Request().Context(), r)
	}
	switch instancehub.ErrorCode(err) {
	case "":
	case instancehub.EINVALID, instancehub.ECONFLICT:
		form.Errors = instancehub.ErrorFields(err)
		if len(form.Errors) == 0 { // an open request for the family already
			form.Errors = map[string]string{"family": instancehub.ErrorMessage(err)}
		}
		return s.render(c, statuses[instancehub.ErrorCode(err)], "compute", views.QuotaRequestPage(form))
	default:
		return err
	}
	s.setNotice(c, "success", "Your request for "+r.Label()+" is sent to the workspace's Owners. You will see their answer here.")
	return c.Redirect(http.StatusSeeOther, "/instances/new?"+url.Values{"region": {r.Region}}.Encode())
}

// decideQuotaRequest grants or declines a quota request, then shows the
// quota page again (with htmx, the part a decision changes).
func (s *Server) decideQuotaRequest(c *echo.Context) error {
	ctx := c.Request().Context()
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return echo.ErrNotFound
	}
	var r *instancehub.QuotaRequest
	decision := views.QuotaDecision{ID: id, Answer: strings.TrimSpace(c.FormValue("answer"))}
	switch c.Param("verb") {
	case "grant":
		r, err = s.service.GrantQuotaRequest(ctx, id)
	case "decline":
		r, err = s.service.DeclineQuotaRequest(ctx, id, decision.Answer)
	default:
		return echo.ErrNotFound
	}
	// A missing reason, or a limit the rules refuse, is told beside the
	// request, which stays open; every other refusal is the error page (or
	// toast) of its code: a request decided already is ECONFLICT.
	if fields := instancehub.ErrorFields(err); len(fields) > 0 {
		decision.Error = fields["answer"] + fields["limit"]
		page, perr := s.service.Quota(ctx, c.FormValue("region"))
		if perr != nil {
			return perr
		}
		form := views.QuotaForm{Decision: decision}
		if isHTMX(c) {
			return s.render(c, http.StatusUnprocessableEntity, "quota", views.QuotaBody(page, "workspace", form))
		}
		return s.render(c, http.StatusUnprocessableEntity, "quota", views.QuotaPage(page, "workspace", form))
	} else if err != nil {
		return err
	}
	message := "Declined " + r.UserName + "'s request; they see your reason on their next visit."
	if r.Status == instancehub.QuotaRequestGranted {
		message = "Granted: the workspace's limit for " + instancehub.FamilyName(r.Family) + " in " + r.Region + " rose by " +
			instancehub.Plural(r.VCPUs, "vCPU") + ". " + r.UserName + " sees it on their next visit."
	}
	if !isHTMX(c) {
		s.setNotice(c, "success", message)
		return c.Redirect(http.StatusSeeOther, "/quota?"+url.Values{"region": {c.FormValue("region")}}.Encode())
	}
	page, err := s.service.Quota(ctx, c.FormValue("region"))
	if err != nil {
		return err
	}
	return s.renderWithNotice(c, http.StatusOK, views.QuotaBody(page, "workspace", views.QuotaForm{}), views.Notice{Tone: "success", Message: message})
}

// tellWhileAway tells the user, once, on their next visit of the list (or
// of the create form, where they asked), what happened while they were
// away: a scheduled start refused by quota (the list only), and the
// Owners' answers to their quota requests. Told, it redirects to the same
// page, which shows it; told is false when there was nothing to tell.
func (s *Server) tellWhileAway(c *echo.Context, schedules bool) (told bool, err error) {
	ctx := c.Request().Context()
	var notices []string
	if schedules {
		if notices, err = s.service.TakeNotices(ctx); err != nil {
			return false, err
		}
	}
	answers, err := s.service.TakeQuotaAnswers(ctx)
	if err != nil {
		return false, err
	}
	if len(notices)+len(answers) == 0 {
		return false, nil
	}
	tone := "success"
	if len(notices) > 0 {
		tone = "danger"
	}
	for _, a := range answers {
		if a.Status == instancehub.QuotaRequestDeclined && tone == "success" {
			tone = "info"
		}
		notices = append(notices, a.AnswerMessage())
	}
	s.setLastingNotice(c, tone, strings.Join(notices, " "))
	return true, c.Redirect(http.StatusSeeOther, c.Request().URL.String())
}
