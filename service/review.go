package service

import (
	"context"

	"github.com/instancehub/instancehub"
)

// ReviewCreate is the create req asks for as it would be made, checked as
// CreateInstance checks it, with its price, the quota it takes and its
// owner; nothing is made or changed. EFORBIDDEN without
// instances/create (audited as the form's denials are), EINVALID with a
// message by each field that needs one.
func (s *Service) ReviewCreate(ctx context.Context, req instancehub.CreateRequest) (*instancehub.CreateReview, error) {
	user, err := authorize(ctx, instancehub.PermCreateInstances, "create compute instances")
	if err != nil {
		s.recordDenial(ctx, "instance.createReview", instancehub.Clip(req.Name, instancehub.MaxAuditTargetLength), err)
		return nil, err
	}
	owner, err := s.createdFor(ctx, user, req)
	if err != nil {
		return nil, err
	}
	inst, schedules, err := s.validated(ctx, user, owner, req)
	if err != nil {
		return nil, err
	}
	review := &instancehub.CreateReview{Instance: inst, Schedules: schedules, ForSomeoneElse: owner.ID != user.ID}
	review.Price, _ = instancehub.PriceOf(s.sizePrices(ctx, inst.Region), inst.VMSize)
	ws, err := s.Quotas.WorkspaceUsage(ctx, inst.Region)
	if err != nil {
		return nil, err
	}
	usage, err := s.Cloud.Usage(ctx, inst.Region)
	if err != nil {
		return nil, err
	}
	review.Quota = instancehub.QuotaTaken(instancehub.VMSize{Name: inst.VMSize, Family: inst.Family, VCPUs: inst.VCPUs}, s.withAdmitted(usage, ws), ws)
	return review, nil
}

// MayCreate is nil when the user may create instances: the create form's
// small parts (a schedule or tag row to add) ask it. EFORBIDDEN otherwise.
func (s *Service) MayCreate(ctx context.Context) error {
	_, err := authorize(ctx, instancehub.PermCreateInstances, "create compute instances")
	return err
}
