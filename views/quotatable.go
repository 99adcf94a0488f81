package views

import (
	"bytes"
	"context"
	"io"
	"strconv"
	"sync"

	"github.com/a-h/templ"
	"github.com/instancehub/instancehub"
)

// keptWorkspaceTable is workspaceTable kept as rendered, by everything it
// shows (quotaTableKey), for the people who may not set limits: their
// table holds no form and reads nothing of the page's context (no CSRF
// token, no user), so all of them share it while the quota, its holders
// and the month's cost stay the same. The rows took two thirds of the
// quota page's rendering. Owners' tables, with a form a row, are rendered
// at every view.
func keptWorkspaceTable(p *instancehub.QuotaPage, form QuotaForm) templ.Component {
	if p.CanEdit {
		return workspaceTable(p, form)
	}
	return templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		key := quotaTableKey(p)
		if b, ok := quotaTables.get(key); ok {
			_, err := w.Write(b)
			return err
		}
		var buf bytes.Buffer
		// Rendered without the page: what it shows cannot depend on who
		// asked.
		if err := workspaceTable(p, form).Render(context.Background(), &buf); err != nil {
			return err
		}
		quotaTables.put(key, buf.Bytes())
		_, err := w.Write(buf.Bytes())
		return err
	})
}

// quotaTableKey is everything workspaceTable shows to someone who may not
// set limits: each row's family, label, use and limits, its month's cost
// as written, and its holders as listed (the first maxHolders, and how
// many). A field the table comes to show must be added here:
// TestQuotaTableKeyHoldsWhatTheTableShows fails when the table changes but
// its key does not.
func quotaTableKey(p *instancehub.QuotaPage) string {
	b := make([]byte, 0, 64*(len(p.Rows)+1))
	b = strconv.AppendBool(b, p.Cost != nil)
	for _, row := range p.Rows {
		b = appendQuotaRow(b, p, row)
	}
	return string(appendQuotaRow(b, p, p.Total))
}

// maxHolders is how many holders a row lists by name (holders).
const maxHolders = 6

func appendQuotaRow(b []byte, p *instancehub.QuotaPage, row instancehub.QuotaRow) []byte {
	b = appendString(b, row.Name)
	b = appendString(b, row.Label)
	for _, n := range []int{row.WorkspaceUsed, row.WorkspaceLimit, row.SubscriptionLimit, len(row.Holders)} {
		b = strconv.AppendInt(append(b, ' '), int64(n), 10)
	}
	if p.Cost != nil {
		b = appendString(b, familyCost(p.Cost, row))
	}
	for _, inst := range row.Holders[:min(len(row.Holders), maxHolders)] {
		b = appendString(b, inst.Name)
		b = strconv.AppendInt(append(b, ' '), int64(inst.VCPUs), 10)
	}
	return b
}

// appendString appends s with its length first: no two lists of strings
// make the same key.
func appendString(b []byte, s string) []byte {
	b = strconv.AppendInt(append(b, ' '), int64(len(s)), 10)
	return append(append(b, ':'), s...)
}

// quotaTables keeps the tables keptWorkspaceTable rendered: a few regions
// at a few moments of their cost.
var quotaTables = &keptParts[string]{max: 64}

// keptParts keeps rendered parts of pages by key; past max it starts
// over, which costs at most a rendering each.
type keptParts[K comparable] struct {
	mu    sync.Mutex
	max   int
	parts map[K][]byte
}

func (k *keptParts[K]) get(key K) ([]byte, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	b, ok := k.parts[key]
	return b, ok
}

func (k *keptParts[K]) put(key K, b []byte) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.parts == nil || len(k.parts) >= k.max {
		k.parts = make(map[K][]byte)
	}
	k.parts[key] = b
}
