package instancehub

import (
	"context"
	"log/slog"
	"strings"
)

// PageSize is how many instances a page of the list shows.
const PageSize = 50

// DefaultVMSize is the size the create form proposes, as the reference does.
const DefaultVMSize = "Standard_DS3_v2"

// DefaultSSHPort is the port instances accept SSH on.
const DefaultSSHPort = 22

// Service applies the product's rules: who may do what, what is valid, and
// what an action does to an instance. Handlers call it and nothing else.
type Service struct {
	Instances InstanceStore
	Users     UserStore
	Cloud     Cloud
	Engine    *Engine
	Logger    *slog.Logger
}

// ListQuery is what the list page asks for.
type ListQuery struct {
	OnlyMine bool
	Search   string
	Sort     InstanceSort
	Page     int // from 1
}

// InstancePage is one page of the instance list.
type InstancePage struct {
	Query     ListQuery
	Instances []*Instance
	Total     int
	Pages     int
}

// ListInstances returns a page of instances.
func (s *Service) ListInstances(ctx context.Context, q ListQuery) (*InstancePage, error) {
	user, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	q.Sort = ParseInstanceSort(string(q.Sort))
	q.Search = strings.TrimSpace(q.Search)
	if q.Page < 1 {
		q.Page = 1
	}
	filter := InstanceFilter{Search: q.Search, Sort: q.Sort, Offset: (q.Page - 1) * PageSize, Limit: PageSize}
	if q.OnlyMine {
		filter.OwnerID = user.ID
	}
	instances, total, err := s.Instances.FindInstances(ctx, filter)
	if err != nil {
		return nil, err
	}
	return &InstancePage{Query: q, Instances: instances, Total: total, Pages: max(1, (total+PageSize-1)/PageSize)}, nil
}

// Instance returns one live instance.
func (s *Service) Instance(ctx context.Context, name string) (*Instance, error) {
	if _, err := requireUser(ctx); err != nil {
		return nil, err
	}
	return s.Instances.FindInstanceByName(ctx, name)
}

// InstanceDetail is an instance with its history of operations.
type InstanceDetail struct {
	*Instance
	Size       VMSize
	Operations []*Operation
}

// HistoryLength is how many operations the details page lists.
const HistoryLength = 20

// InstanceDetail returns an instance with its operations, newest first.
func (s *Service) InstanceDetail(ctx context.Context, name string) (*InstanceDetail, error) {
	inst, err := s.Instance(ctx, name)
	if err != nil {
		return nil, err
	}
	ops, err := s.Instances.FindOperations(ctx, inst.ID, HistoryLength)
	if err != nil {
		return nil, err
	}
	return &InstanceDetail{Instance: inst, Operations: ops}, nil
}

// Act starts a Start, Stop, Restart or Delete of the named instance.
func (s *Service) Act(ctx context.Context, name string, kind OperationKind) (*Instance, error) {
	if kind == OpCreate {
		return nil, Errorf(EINVALID, "Use the create form to create an instance.")
	}
	inst, err := s.Instance(ctx, name)
	if err != nil {
		return nil, err
	}
	if _, err := s.Engine.Submit(ctx, inst, kind, TriggerUser); err != nil {
		return nil, err
	}
	return s.Instances.FindInstanceByID(ctx, inst.ID)
}

// Refresh reconciles the list with Azure now.
func (s *Service) Refresh(ctx context.Context) (SyncReport, error) {
	if _, err := requireUser(ctx); err != nil {
		return SyncReport{}, err
	}
	return s.Engine.Sync(ctx)
}

// OpenApplication checks that the signed-in user owns the instance and that
// it runs, and returns it with the application.
func (s *Service) OpenApplication(ctx context.Context, name, slug string) (*Instance, Application, error) {
	user, err := requireUser(ctx)
	if err != nil {
		return nil, Application{}, err
	}
	app, ok := FindApplication(slug)
	if !ok {
		return nil, app, Errorf(ENOTFOUND, "There is no application %q on compute instances.", slug)
	}
	inst, err := s.Instances.FindInstanceByName(ctx, name)
	if err != nil {
		return nil, app, err
	}
	if inst.OwnerID != user.ID {
		return nil, app, Errorf(EFORBIDDEN, "Only the owner of %s, %s, may open its applications.", inst.Name, inst.OwnerName)
	}
	if inst.State != StateRunning {
		return inst, app, Errorf(ECONFLICT, "%s is %s; start it to open %s.", inst.Name, strings.ToLower(inst.State.Label()), app.Label)
	}
	return inst, app, nil
}

func requireUser(ctx context.Context) (*User, error) {
	user := UserFromContext(ctx)
	if user == nil {
		return nil, Errorf(EUNAUTHORIZED, "Sign in to continue.")
	}
	return user, nil
}
