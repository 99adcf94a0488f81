package service

import (
	"context"

	"github.com/instancehub/instancehub"
)

// sizePrices returns the prices of region's sizes, or nil when there is no
// price list or it cannot be read: prices inform, and a page that shows
// them works without them.
func (s *Service) sizePrices(ctx context.Context, region string) map[string]instancehub.Price {
	if s.Prices == nil {
		return nil
	}
	prices, err := s.Prices.Prices(ctx, region)
	if err != nil {
		s.logger().WarnContext(ctx, "read VM prices", "region", region, "err", err)
		return nil
	}
	return prices
}

// instanceCost estimates inst's cost; nil when its size has no price or
// no running time is recorded.
func (s *Service) instanceCost(ctx context.Context, inst *instancehub.Instance) (*instancehub.InstanceCost, error) {
	price, ok := instancehub.PriceOf(s.sizePrices(ctx, inst.Region), inst.VMSize)
	if !ok {
		return nil, nil
	}
	now := s.now()
	soFar, thisMonth, err := s.RunningTimes.RunningTime(ctx, inst.ID, instancehub.MonthStart(now), now)
	if err != nil {
		return nil, err
	}
	return instancehub.EstimateInstanceCost(price, soFar, thisMonth, now), nil
}

// monthCost estimates what region's instances cost this month; nil when
// nothing can be priced.
func (s *Service) monthCost(ctx context.Context, region string) (*instancehub.MonthCost, error) {
	prices := s.sizePrices(ctx, region)
	if len(prices) == 0 {
		return nil, nil
	}
	now := s.now()
	running, err := s.RunningTimes.RunningTimeBySize(ctx, region, instancehub.MonthStart(now), now)
	if err != nil {
		return nil, err
	}
	return instancehub.EstimateMonthCost(running, prices, now), nil
}
