package instancehub

import (
	"context"
	"fmt"
	"strings"
)

// BulkAct carries out a Start, Stop, Restart or Delete on each named
// instance, as Act does one: each is authorized, checked against its state
// and quota, and audited on its own, and one refused does not stop the
// others. Names are taken once each, at most MaxBulk.
func (s *Service) BulkAct(ctx context.Context, names []string, kind OperationKind) (*BulkResult, error) {
	if kind == OpCreate {
		return nil, Errorf(EINVALID, "Use the create form to create an instance.")
	}
	if _, err := authorize(ctx, PermReadInstances, "see compute instances"); err != nil {
		return nil, err
	}
	if len(names) > 4*MaxBulk {
		return nil, Errorf(EINVALID, "Select at most %d instances at once; %d were sent.", MaxBulk, len(names))
	}
	var unique []string
	seen := map[string]bool{}
	for _, n := range names {
		n = strings.TrimSpace(n)
		if k := strings.ToLower(n); n != "" && !seen[k] {
			seen[k] = true
			unique = append(unique, n)
		}
	}
	switch {
	case len(unique) == 0:
		return nil, Errorf(EINVALID, "Select the instances to %s first.", kind.Verb())
	case len(unique) > MaxBulk:
		return nil, Errorf(EINVALID, "Select at most %d instances at once; %d were selected.", MaxBulk, len(unique))
	}
	result := &BulkResult{Kind: kind}
	for _, name := range unique {
		if len(name) > MaxResourceNameLength {
			result.Refused = append(result.Refused, BulkRefusal{Name: Clip(name, MaxResourceNameLength), Reason: "There is no such instance."})
			continue
		}
		inst, err := s.Act(ctx, name, kind)
		switch {
		case err == nil:
			result.Done = append(result.Done, inst.Name)
		case ErrorCode(err) == EINTERNAL:
			return result, fmt.Errorf("%s %s: %w", kind.Verb(), name, err)
		default:
			result.Refused = append(result.Refused, BulkRefusal{Name: name, Reason: ErrorMessage(err)})
		}
	}
	return result, nil
}
