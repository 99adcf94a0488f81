package views

import (
	"bytes"
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/a-h/templ"
	"github.com/instancehub/instancehub"
)

// quotaPage is a region's quota as a Contributor sees it: rows with and
// without a limit, with no holder, a few and more than the table lists,
// and the month's cost.
func quotaPage() *instancehub.QuotaPage {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) // only rendered, never compared with the clock
	p := &instancehub.QuotaPage{Region: "eastus", Regions: []instancehub.Region{{Name: "eastus", DisplayName: "East US"}},
		Cost: &instancehub.MonthCost{ByFamily: map[string]instancehub.Money{"standardDSv2Family": {Amount: 12.5, Currency: "USD"}},
			Total: instancehub.Money{Amount: 20, Currency: "USD"}, Since: now, Source: "list", AsOf: now}}
	for f, holders := range []int{0, 2, 8} {
		row := instancehub.QuotaRow{Name: fmt.Sprintf("standardF%dFamily", f), Label: fmt.Sprintf("F%d", f),
			WorkspaceUsed: 4 * holders, WorkspaceLimit: []int{-1, 16, 64}[f], SubscriptionUsed: 6 * holders, SubscriptionLimit: 100}
		for i := range holders {
			inst := rowInstance(now)
			inst.Name, inst.VCPUs = fmt.Sprintf("box-%d-%d", f, i), 4
			row.Holders = append(row.Holders, inst)
		}
		p.Rows = append(p.Rows, row)
	}
	p.Rows[0].Name = "standardDSv2Family"
	p.Total = instancehub.QuotaRow{Name: instancehub.TotalRegionalVCPUs, Label: "Total regional vCPUs", WorkspaceLimit: -1, SubscriptionLimit: 500}
	for _, row := range p.Rows {
		p.Total.Holders = append(p.Total.Holders, row.Holders...)
	}
	return p
}

func renderTable(t *testing.T, p *instancehub.QuotaPage) string {
	t.Helper()
	var b bytes.Buffer
	if err := workspaceTable(p, QuotaForm{}).Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// clonePage copies p deeply enough for one of its rows, its holders and
// its cost to be changed.
func clonePage(p *instancehub.QuotaPage) *instancehub.QuotaPage {
	c := *p
	c.Rows = append([]instancehub.QuotaRow(nil), p.Rows...)
	if p.Cost != nil {
		cost := *p.Cost
		c.Cost = &cost
	}
	return &c
}

// TestQuotaTableKeyHoldsWhatTheTableShows: a kept table is served for
// every page with its key, so any change of the page that changes the
// table must change its key. Each field of a row, of each holder it lists
// (every field of the instance) and of the month's cost is changed in
// turn, in a row and in the total.
func TestQuotaTableKeyHoldsWhatTheTableShows(t *testing.T) {
	base := quotaPage()
	before, key := renderTable(t, base), quotaTableKey(base)
	checked := 0
	try := func(name string, p *instancehub.QuotaPage) {
		if renderTable(t, p) == before {
			return
		}
		checked++
		if quotaTableKey(p) == key {
			t.Errorf("%s: the table changes but its key does not", name)
		}
	}
	row := func(p *instancehub.QuotaPage, i int) *instancehub.QuotaRow {
		if i == len(p.Rows) {
			return &p.Total
		}
		return &p.Rows[i]
	}
	for i := range len(base.Rows) + 1 {
		rt := reflect.TypeFor[instancehub.QuotaRow]()
		for f := range rt.NumField() {
			if rt.Field(f).Type.Kind() == reflect.Slice {
				continue // the holders, below
			}
			for j, set := range setters(rt.Field(f).Type) {
				p := clonePage(base)
				set(reflect.ValueOf(row(p, i)).Elem().Field(f))
				try(fmt.Sprintf("row %d %s#%d", i, rt.Field(f).Name, j), p)
			}
		}
		holders := row(base, i).Holders
		for h := range holders {
			for _, v := range variants(holders[h]) {
				p := clonePage(base)
				r := row(p, i)
				r.Holders = append([]*instancehub.Instance(nil), r.Holders...)
				r.Holders[h] = v.inst
				try(fmt.Sprintf("row %d holder %d %s", i, h, v.field), p)
			}
		}
		p := clonePage(base)
		r := row(p, i)
		r.Holders = append(append([]*instancehub.Instance(nil), r.Holders...), rowInstance(time.Time{}))
		try(fmt.Sprintf("row %d one more holder", i), p)
		if len(holders) > 0 {
			p := clonePage(base)
			r := row(p, i)
			r.Holders = r.Holders[1:]
			try(fmt.Sprintf("row %d one holder less", i), p)
		}
	}
	p := clonePage(base)
	p.Cost = nil
	try("no cost", p)
	p = clonePage(base)
	p.Cost.Total.Amount += 1
	try("total cost", p)
	p = clonePage(base)
	p.Cost.ByFamily = map[string]instancehub.Money{"standardDSv2Family": {Amount: 13, Currency: "USD"}}
	try("a family's cost", p)
	p = clonePage(base)
	p.Rows = p.Rows[1:]
	try("a row less", p)
	if checked < 40 {
		t.Fatalf("only %d changes changed the table: the variants do not reach its fields", checked)
	}
}

// TestKeptQuotaTableIsTheTableAsRendered: the quota page with its table
// kept is the page rendered without, byte for byte, the first time and
// from the kept table, for a Contributor; an Owner's table, with a form
// and the session's CSRF token a row, is never taken from the kept one.
func TestKeptQuotaTableIsTheTableAsRendered(t *testing.T) {
	quotaTables = &keptParts[string]{max: 64}
	contributor := &instancehub.User{ID: 2, Name: "Bo", Roles: []instancehub.Role{instancehub.RoleContributor}}
	owner := &instancehub.User{ID: 1, Name: "Ada", Roles: []instancehub.Role{instancehub.RoleOwner}}
	ctxOf := func(user *instancehub.User) context.Context {
		return WithPage(context.Background(), &Page{User: user, CSRFToken: "token-of-" + user.Name})
	}
	render := func(user *instancehub.User, c templ.Component) string {
		var b bytes.Buffer
		if err := c.Render(ctxOf(user), &b); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	for _, step := range []struct {
		user    *instancehub.User
		canEdit bool
		change  bool
	}{
		{contributor, false, false},
		{contributor, false, false},
		{owner, true, false},
		{contributor, false, true},
		{owner, true, true},
	} {
		p := quotaPage()
		p.CanEdit = step.canEdit
		if step.change {
			p.Rows[1].WorkspaceUsed++
		}
		// The page, its table kept, and the table as rendered in place.
		page, table := render(step.user, QuotaPage(p, "workspace", QuotaForm{})), render(step.user, workspaceTable(p, QuotaForm{}))
		if !strings.Contains(page, table) {
			t.Fatalf("%s (change %v): the page does not hold the table as rendered", step.user.Name, step.change)
		}
		if forms := strings.Count(table, "token-of-"); (forms > 0) != step.canEdit {
			t.Fatalf("%s: %d CSRF tokens in the table", step.user.Name, forms)
		}
	}
	if len(quotaTables.parts) != 2 {
		t.Fatalf("%d tables kept, want one for each Contributor's quota", len(quotaTables.parts))
	}
}
