package views

import (
	"bytes"
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
)

// rowInstance is an instance with every field the list could show set, at
// the time now.
func rowInstance(now time.Time) *instancehub.Instance {
	return &instancehub.Instance{
		ID: 7, Name: "ada-box", Region: "eastus", VMSize: "Standard_DS3_v2", Family: "standardDSv2Family",
		VCPUs: 4, MemoryGiB: 14, GPUs: 1, State: instancehub.StateStarting,
		OwnerID: 1, OwnerName: "Ada", OwnerEmail: "ada@example.com", CreatedByID: 2, CreatedByName: "Bob",
		CreatedAt: now.Add(-48 * time.Hour), UpdatedAt: now.Add(-time.Hour), Version: 3, LastActivity: now.Add(-10 * time.Minute),
		IdleShutdown: time.Hour, IdleChangedAt: now.Add(-2 * time.Hour), KeepRunningUntil: now.Add(time.Hour),
		AutoStop: &instancehub.AutoStop{At: now.Add(5 * time.Minute), Trigger: instancehub.TriggerIdleShutdown, Reason: "idle shutdown after 1 hour", Source: "idle shutdown"},
		NextStop: &instancehub.AutoStop{At: now.Add(5 * time.Minute), Trigger: instancehub.TriggerIdleShutdown, Reason: "idle shutdown after 1 hour", Source: "idle shutdown"},
		LastOperation: &instancehub.Operation{ID: 9, Kind: instancehub.OpStart, Status: instancehub.StatusInProgress, Step: "virtual machine",
			ErrorMessage: "Azure said no.", StartedAt: now.Add(-time.Minute)},
		Access: instancehub.Access{Manage: true, OpenApps: true},
	}
}

func renderRow(t *testing.T, inst *instancehub.Instance) string {
	t.Helper()
	var b bytes.Buffer
	if err := InstanceRow(inst).Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// variant is an instance that differs from the base in one field.
type variant struct {
	field string
	inst  *instancehub.Instance
}

// variants changes each field reachable from the instance, through
// structs and pointers to structs (copied, never changed in place), one
// at a time; a pointer is also made nil. Named string types with known
// values (states, operation kinds, statuses, triggers) take each other
// value; other strings get a suffix, numbers more, times later, booleans
// the other value, maps and slices an element.
func variants(base *instancehub.Instance) []variant {
	var out []variant
	var walk func(path []int, name string, t reflect.Type)
	walk = func(path []int, name string, t reflect.Type) {
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			p, fname := append(slices.Clone(path), i), name+f.Name
			switch ft := f.Type; {
			case ft == reflect.TypeFor[time.Time]():
				out = append(out, change(base, fname, p, func(x reflect.Value) { x.Set(reflect.ValueOf(x.Interface().(time.Time).Add(37 * time.Minute))) }))
			case ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.Struct:
				out = append(out, change(base, fname+"=nil", p, func(x reflect.Value) { x.Set(reflect.Zero(ft)) }))
				walk(p, fname+".", ft.Elem())
			case ft.Kind() == reflect.Struct:
				walk(p, fname+".", ft)
			default:
				for j, set := range setters(ft) {
					out = append(out, change(base, fmt.Sprintf("%s#%d", fname, j), p, set))
				}
			}
		}
	}
	walk(nil, "", reflect.TypeFor[instancehub.Instance]())
	return out
}

// known are the values of the named string types a row reads.
var known = map[reflect.Type][]any{
	reflect.TypeFor[instancehub.State]():           toAny(instancehub.ListedStates),
	reflect.TypeFor[instancehub.OperationKind]():   toAny(instancehub.OperationKinds),
	reflect.TypeFor[instancehub.OperationStatus](): {instancehub.StatusInProgress, instancehub.StatusSucceeded, instancehub.StatusFailed},
	reflect.TypeFor[instancehub.Trigger]():         {instancehub.TriggerUser, instancehub.TriggerSchedule, instancehub.TriggerIdleShutdown},
}

func toAny[T any](values []T) []any {
	out := make([]any, len(values))
	for i, v := range values {
		out[i] = v
	}
	return out
}

func setters(t reflect.Type) []func(reflect.Value) {
	if values, ok := known[t]; ok {
		var out []func(reflect.Value)
		for _, v := range values {
			out = append(out, func(x reflect.Value) { x.Set(reflect.ValueOf(v)) })
		}
		return out
	}
	return []func(reflect.Value){func(x reflect.Value) {
		switch x.Kind() {
		case reflect.String:
			x.SetString(x.String() + "-changed")
		case reflect.Bool:
			x.SetBool(!x.Bool())
		case reflect.Int, reflect.Int64, reflect.Int32:
			x.SetInt(x.Int() + 3)
		case reflect.Float64:
			x.SetFloat(x.Float() + 1.5)
		case reflect.Map:
			m := reflect.MakeMapWithSize(x.Type(), 1)
			m.SetMapIndex(reflect.New(x.Type().Key()).Elem(), reflect.New(x.Type().Elem()).Elem())
			x.Set(m)
		case reflect.Slice:
			x.Set(reflect.MakeSlice(x.Type(), 1, 1))
		}
	}}
}

// change copies base and applies set to the field at path, copying each
// struct a pointer on the way leads to (a nil one starts empty).
func change(base *instancehub.Instance, name string, path []int, set func(reflect.Value)) variant {
	c := *base
	v := reflect.ValueOf(&c).Elem()
	for i, index := range path {
		v = v.Field(index)
		if i == len(path)-1 {
			break
		}
		if v.Kind() == reflect.Pointer {
			fresh := reflect.New(v.Type().Elem())
			if !v.IsNil() {
				fresh.Elem().Set(v.Elem())
			}
			v.Set(fresh)
			v = fresh.Elem()
		}
	}
	set(v)
	return variant{name, &c}
}

// TestRowKeyHoldsWhatTheRowShows: a kept row is served for every instance
// with its key, so any change of an instance that changes its row must
// change its key. Each field of the instance is changed in turn, from
// several starting points (running with nothing under way, starting, a
// failed operation, nothing optional set).
func TestRowKeyHoldsWhatTheRowShows(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) // only rendered, never compared with the clock
	running := rowInstance(now)
	running.State, running.LastOperation.Status = instancehub.StateRunning, instancehub.StatusSucceeded
	failed := rowInstance(now)
	failed.State, failed.LastOperation.Status, failed.Access = instancehub.StateStopped, instancehub.StatusFailed, instancehub.Access{}
	bare := &instancehub.Instance{Name: "bare", State: instancehub.StateStopped, OwnerID: 1, CreatedByID: 1}
	checked := 0
	for _, base := range []*instancehub.Instance{rowInstance(now), running, failed, bare} {
		before, key := renderRow(t, base), keyOf(base)
		for _, v := range variants(base) {
			if renderRow(t, v.inst) == before {
				continue
			}
			checked++
			if keyOf(v.inst) == key {
				t.Errorf("%s (from %s, %s): the row changes but its key does not", v.field, base.Name, base.State)
			}
		}
	}
	if checked < 20 {
		t.Fatalf("only %d changes changed a row: the variants do not reach the row's fields", checked)
	}
}

// TestKeptRowsAreTheRowsAsRendered: a list rendered with kept rows is the
// list rendered without, byte for byte, the first time and from the kept
// rows; viewers with other access to the same instances (an Owner who may
// act, a Reader who may not) each get their own rows, whatever order they
// come in; and a change of state shows at once.
func TestKeptRowsAreTheRowsAsRendered(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	list := func(access instancehub.Access, state instancehub.State) *instancehub.InstancePage {
		var instances []*instancehub.Instance
		for i, s := range instancehub.ListedStates {
			inst := rowInstance(now)
			inst.Name, inst.Access = fmt.Sprintf("box-%d", i), access
			inst.State = s
			if i == 0 {
				inst.State = state
			}
			instances = append(instances, inst)
		}
		return &instancehub.InstancePage{Instances: instances, Total: len(instances), Pages: 1, Query: instancehub.ListQuery{Page: 1}}
	}
	owner := &instancehub.User{ID: 1, Name: "Ada", Roles: []instancehub.Role{instancehub.RoleOwner}}
	reader := &instancehub.User{ID: 3, Name: "Cy", Roles: []instancehub.Role{instancehub.RoleReader}}
	render := func(rows *Rows, user *instancehub.User, p *instancehub.InstancePage) string {
		var b bytes.Buffer
		ctx := WithPage(context.Background(), &Page{User: user, CSRFToken: "token-of-" + user.Name, Rows: rows})
		if err := InstanceList(p).Render(ctx, &b); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	rows := NewRows(100)
	manage := instancehub.Access{Manage: true, OpenApps: true}
	for _, step := range []struct {
		user   *instancehub.User
		access instancehub.Access
		state  instancehub.State
	}{
		{owner, manage, instancehub.StateRunning},
		{reader, instancehub.Access{}, instancehub.StateRunning},
		{owner, manage, instancehub.StateRunning},
		{reader, instancehub.Access{}, instancehub.StateRunning},
		{owner, manage, instancehub.StateStopping},
		{reader, instancehub.Access{}, instancehub.StateStopping},
	} {
		p := list(step.access, step.state)
		want, got := render(nil, step.user, p), render(rows, step.user, p)
		if got != want {
			t.Fatalf("%s, %s: the list with kept rows differs from the list without", step.user.Name, step.state)
		}
		if buttons := strings.Count(got, "formaction="); (buttons > 0) != step.access.Manage {
			t.Fatalf("%s sees %d action buttons", step.user.Name, buttons)
		}
		first := got[strings.Index(got, `data-name="box-0"`):]
		if first = first[:strings.Index(first, "</tr>")]; !strings.Contains(first, step.state.Label()) {
			t.Fatalf("%s does not see the state %s", step.user.Name, step.state)
		}
	}
	if len(rows.rows) != 2*(len(instancehub.ListedStates)+1) {
		t.Fatalf("%d rows kept, want one for each instance, state and access", len(rows.rows))
	}

	// Bounded: past its size it starts over.
	small := NewRows(3)
	p := list(manage, instancehub.StateRunning)
	if got, want := render(small, owner, p), render(nil, owner, p); got != want || len(small.rows) > 3 {
		t.Fatalf("a full Rows: %d rows kept, same list %v", len(small.rows), got == want)
	}
}

// TestActionReasonsAsRenderedOnce: the block of reasons pages carry is the
// block as its template renders it, with a reason for every action off in
// a state.
func TestActionReasonsAsRenderedOnce(t *testing.T) {
	var once, block bytes.Buffer
	if err := actionReasons().Render(context.Background(), &once); err != nil {
		t.Fatal(err)
	}
	if err := actionReasonsBlock().Render(context.Background(), &block); err != nil {
		t.Fatal(err)
	}
	if once.String() != block.String() || !strings.Contains(once.String(), `id="why-start-running"`) {
		t.Fatalf("the reasons block as kept:\n%s", once.String())
	}
}
