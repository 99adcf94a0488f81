package service

import (
	"context"
	"fmt"

	"github.com/instancehub/instancehub"
)

// QuotaRequestDraft is the form of a new quota request, its family and
// region checked and its vCPUs as given (what the size lacks): for those
// who may ask, who are those who may create instances.
func (s *Service) QuotaRequestDraft(ctx context.Context, region, family string, vcpus int) (*instancehub.QuotaRequest, error) {
	if _, err := authorize(ctx, instancehub.PermCreateInstances, "ask for more quota"); err != nil {
		s.recordDenial(ctx, "quota.request", region+"/"+family, err)
		return nil, err
	}
	r := &instancehub.QuotaRequest{Region: region, Family: family, VCPUs: min(max(vcpus, 1), instancehub.MaxQuotaRequestVCPUs)}
	if err := s.checkFamily(ctx, r); err != nil {
		return nil, err
	}
	return r, nil
}

// RequestQuota sends r to the workspace's Owners, from the signed-in user:
// those who may create instances may ask. EINVALID naming the field for a
// bad region, family, vCPUs or reason; ECONFLICT when the user has an open
// request for the same family and region.
func (s *Service) RequestQuota(ctx context.Context, r *instancehub.QuotaRequest) (err error) {
	defer func() { s.record(ctx, "quota.request", r.Label()+" ("+instancehub.Clip(r.Reason, 100)+")", err) }()
	user, err := authorize(ctx, instancehub.PermCreateInstances, "ask for more quota")
	if err != nil {
		return err
	}
	if err := r.Validate(); err != nil {
		return err
	}
	if err := s.checkFamily(ctx, r); err != nil {
		return err
	}
	r.UserID, r.UserName, r.At = user.ID, user.Name, s.now()
	return s.QuotaRequests.AddQuotaRequest(ctx, r)
}

// checkFamily refuses a request for a region not offered or a family Azure
// has not there (EINVALID on "family").
func (s *Service) checkFamily(ctx context.Context, r *instancehub.QuotaRequest) error {
	if err := s.validateRegion(ctx, r.Region); err != nil {
		return err
	}
	if _, err := s.usage(ctx, r.Region, r.Family); err != nil {
		return instancehub.FieldError("family", instancehub.ErrorMessage(err))
	}
	return nil
}

// OpenQuotaRequests lists the requests waiting for a decision: for those
// who may set the workspace's limits, who decide them.
func (s *Service) OpenQuotaRequests(ctx context.Context) ([]*instancehub.QuotaRequest, error) {
	if _, err := authorize(ctx, instancehub.PermWriteQuota, "decide quota requests"); err != nil {
		return nil, err
	}
	return s.QuotaRequests.OpenQuotaRequests(ctx)
}

// GrantQuotaRequest raises the workspace's limit of the request's family
// by what it asks, from the limit set or, with none, from the
// subscription's, by the rules of any limit (checkLimit): a limit above
// Azure's is refused with the reason on "limit", and the request stays
// open. A raise never lowers a limit, so it needs no warning below use.
// EFORBIDDEN but for those who may set limits; ENOTFOUND; ECONFLICT when
// the request was decided already or the limit changed meanwhile.
func (s *Service) GrantQuotaRequest(ctx context.Context, id int64) (r *instancehub.QuotaRequest, err error) {
	target := fmt.Sprintf("quota request %d", id)
	defer func() { s.record(ctx, "quota.request.grant", target, err) }()
	user, err := authorize(ctx, instancehub.PermWriteQuota, "grant quota requests")
	if err != nil {
		return nil, err
	}
	if r, err = s.openRequest(ctx, id); err != nil {
		return nil, err
	}
	target = fmt.Sprintf("quota request %d of %s: %s", id, r.UserName, r.Label())
	ws, err := s.Quotas.WorkspaceUsage(ctx, r.Region)
	if err != nil {
		return nil, err
	}
	was, ok := ws.Limits[r.Family]
	base := was
	if !ok {
		was = -1
		u, err := s.usage(ctx, r.Region, r.Family)
		if err != nil {
			return nil, err
		}
		base = u.Limit
	}
	limit := base + r.VCPUs
	if err := s.checkLimit(ctx, r.Region, r.Family, limit); err != nil {
		return nil, err
	}
	target += fmt.Sprintf(": limit %s", instancehub.Plural(limit, "vCPU"))
	r.DecidedByID, r.DecidedByName, r.DecidedAt = user.ID, user.Name, s.now()
	return r, s.QuotaRequests.GrantQuotaRequest(ctx, r, was, limit)
}

// DeclineQuotaRequest declines a request with the Owner's reason, which
// its requester reads. EINVALID on "answer" without a reason; EFORBIDDEN,
// ENOTFOUND and ECONFLICT as GrantQuotaRequest's.
func (s *Service) DeclineQuotaRequest(ctx context.Context, id int64, answer string) (r *instancehub.QuotaRequest, err error) {
	target := fmt.Sprintf("quota request %d", id)
	defer func() { s.record(ctx, "quota.request.decline", target, err) }()
	user, err := authorize(ctx, instancehub.PermWriteQuota, "decline quota requests")
	if err != nil {
		return nil, err
	}
	if answer, err = instancehub.CheckDeclineReason(answer); err != nil {
		return nil, err
	}
	if r, err = s.openRequest(ctx, id); err != nil {
		return nil, err
	}
	target = fmt.Sprintf("quota request %d of %s: %s (%s)", id, r.UserName, r.Label(), instancehub.Clip(answer, 100))
	r.DecidedByID, r.DecidedByName, r.DecidedAt, r.Answer = user.ID, user.Name, s.now(), answer
	return r, s.QuotaRequests.DeclineQuotaRequest(ctx, r)
}

// openRequest returns request id while it is open; ECONFLICT, saying who
// decided it, once decided.
func (s *Service) openRequest(ctx context.Context, id int64) (*instancehub.QuotaRequest, error) {
	r, err := s.QuotaRequests.QuotaRequest(ctx, id)
	if err != nil {
		return nil, err
	}
	if r.Status != instancehub.QuotaRequestOpen {
		return nil, r.DecidedAlready()
	}
	return r, nil
}

// TakeQuotaAnswers returns, once, the answers to the signed-in user's
// quota requests that they have not been told yet.
func (s *Service) TakeQuotaAnswers(ctx context.Context) ([]*instancehub.QuotaRequest, error) {
	user := instancehub.UserFromContext(ctx)
	if user == nil || user.ReadOnly {
		return nil, nil
	}
	return s.QuotaRequests.TakeQuotaAnswers(ctx, user.ID)
}
