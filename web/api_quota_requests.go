package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/instancehub/instancehub"
	"github.com/labstack/echo/v5"
)

// quotaRequestJSON is a quota request in the API.
type quotaRequestJSON struct {
	ID        string     `json:"id"`
	UserName  string     `json:"userName"`
	Region    string     `json:"region"`
	Family    string     `json:"family"`
	VCPUs     int        `json:"vcpus"`
	Reason    string     `json:"reason"`
	Time      time.Time  `json:"time"`
	Status    string     `json:"status"`
	DecidedBy string     `json:"decidedBy,omitempty"`
	DecidedAt *time.Time `json:"decidedAt,omitempty"`
	Answer    string     `json:"answer,omitempty"`
}

func quotaRequestOf(r *instancehub.QuotaRequest) quotaRequestJSON {
	out := quotaRequestJSON{ID: strconv.FormatInt(r.ID, 10), UserName: r.UserName, Region: r.Region, Family: r.Family,
		VCPUs: r.VCPUs, Reason: r.Reason, Time: r.At, Status: string(r.Status), DecidedBy: r.DecidedByName, Answer: r.Answer}
	if !r.DecidedAt.IsZero() {
		at := r.DecidedAt
		out.DecidedAt = &at
	}
	return out
}

// apiQuotaRequests lists the open quota requests, for those who decide.
func (s *Server) apiQuotaRequests(c *echo.Context) error {
	list, err := s.service.OpenQuotaRequests(c.Request().Context())
	if err != nil {
		return err
	}
	out := listJSON[quotaRequestJSON]{Value: make([]quotaRequestJSON, 0, len(list)), Count: len(list)}
	for _, r := range list {
		out.Value = append(out.Value, quotaRequestOf(r))
	}
	return s.sendJSON(c, http.StatusOK, out)
}

// apiRequestQuota asks the Owners for more quota: {"region", "family",
// "vcpus", "reason"}.
func (s *Server) apiRequestQuota(c *echo.Context) error {
	var body struct {
		Region string `json:"region"`
		Family string `json:"family"`
		VCPUs  int    `json:"vcpus"`
		Reason string `json:"reason"`
	}
	if err := readJSON(c, &body); err != nil {
		return err
	}
	r := &instancehub.QuotaRequest{Region: body.Region, Family: body.Family, VCPUs: body.VCPUs, Reason: body.Reason}
	if err := s.service.RequestQuota(c.Request().Context(), r); err != nil {
		return err
	}
	return s.sendJSON(c, http.StatusCreated, quotaRequestOf(r))
}

// apiDecideQuotaRequest grants a request, or declines it: {"answer"}.
func (s *Server) apiDecideQuotaRequest(c *echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return instancehub.Errorf(instancehub.ENOTFOUND, "There is no quota request %s.", instancehub.Clip(c.Param("id"), 20))
	}
	ctx := c.Request().Context()
	var r *instancehub.QuotaRequest
	switch c.Param("verb") {
	case "grant":
		r, err = s.service.GrantQuotaRequest(ctx, id)
	case "decline":
		var body struct {
			Answer string `json:"answer"`
		}
		if err := readJSON(c, &body); err != nil {
			return err
		}
		r, err = s.service.DeclineQuotaRequest(ctx, id, body.Answer)
	default:
		return echo.ErrNotFound
	}
	if err != nil {
		return err
	}
	return s.sendJSON(c, http.StatusOK, quotaRequestOf(r))
}
