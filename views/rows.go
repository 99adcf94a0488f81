package views

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/maphash"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/a-h/templ"
	"github.com/instancehub/instancehub"
)

// Rows keeps the list's rows as rendered, each by everything it shows
// (rowKey): a row is rendered once per change of what it shows and per
// viewer's access to it, not once per page view. A page that lists 50 rows
// spends most of its time in them otherwise. A row reads nothing of the
// page's context (no user, no CSRF token: the page carries those once), so
// two viewers with the same access to an instance in the same state share
// its row, and viewers with other access never do (Access is in the key).
type Rows struct {
	mu  sync.Mutex
	max int
	// rows are by their key's sum: Go's map hashed a rowKey a field at a
	// time, some thirty calls, which took a twentieth of a list render's
	// CPU; sum takes one, and get compares the whole key.
	rows map[uint64]rowEntry
}

type rowEntry struct {
	key rowKey
	row []byte
}

// NewRows keeps at most max rows; past them it starts over, which costs
// at most a rendering each.
func NewRows(max int) *Rows { return &Rows{max: max} }

// rowKey is everything InstanceRow shows of an instance. A field the row
// comes to show must be added here: TestRowKeyHoldsWhatTheRowShows renders
// a row for a change of each of the instance's fields and fails when the
// row changes but its key does not.
type rowKey struct {
	id                       int64 // the row's data-id, which its changes name
	name, vmSize             string
	state                    instancehub.State
	access                   instancehub.Access
	vcpus, gpus              int
	memoryGiB                float64
	ownerID, createdByID     int64
	ownerName, createdByName string
	createdAt, lastActivity  time.Time
	autoStop, nextStop       instancehub.AutoStop
	hasAutoStop, hasNextStop bool
	hasOperation             bool
	opKind                   instancehub.OperationKind
	opStatus                 instancehub.OperationStatus
	opStep, opError          string
}

func keyOf(inst *instancehub.Instance) rowKey {
	k := rowKey{
		id: inst.ID, name: inst.Name, vmSize: inst.VMSize, state: inst.State, access: inst.Access,
		vcpus: inst.VCPUs, gpus: inst.GPUs, memoryGiB: inst.MemoryGiB,
		ownerID: inst.OwnerID, createdByID: inst.CreatedByID, ownerName: inst.OwnerName, createdByName: inst.CreatedByName,
		createdAt: inst.CreatedAt, lastActivity: inst.LastActivity,
	}
	if inst.AutoStop != nil {
		k.autoStop, k.hasAutoStop = *inst.AutoStop, true
	}
	if inst.NextStop != nil {
		k.nextStop, k.hasNextStop = *inst.NextStop, true
	}
	if op := inst.LastOperation; op != nil {
		k.hasOperation, k.opKind, k.opStatus, k.opStep, k.opError = true, op.Kind, op.Status, op.Step, op.ErrorMessage
	}
	return k
}

var rowSeed = maphash.MakeSeed()

// sum hashes what tells an instance's rows apart from other instances' and
// from its own before a change or for another viewer's access: keys equal
// in every field have equal sums. Two keys of one sum keep one row at a
// time, the other rendered again when asked.
func (k *rowKey) sum() uint64 {
	var buf [160]byte
	b := binary.LittleEndian.AppendUint64(buf[:0], uint64(k.id))
	b = binary.LittleEndian.AppendUint64(b, uint64(k.lastActivity.UnixNano()))
	b = binary.LittleEndian.AppendUint64(b, uint64(k.nextStop.At.UnixNano()))
	b = append(b, flags(k.access.Manage, k.access.OpenApps, k.access.AddSSHKey, k.access.BootLog, k.hasOperation, k.hasAutoStop, k.hasNextStop))
	for _, s := range [...]string{k.name, string(k.state), string(k.opStatus), k.opStep, k.ownerName} {
		b = append(append(b, s...), 0)
	}
	return maphash.Bytes(rowSeed, b)
}

func flags(bits ...bool) byte {
	var f byte
	for i, bit := range bits {
		if bit {
			f |= 1 << i
		}
	}
	return f
}

func (r *Rows) get(k rowKey) ([]byte, bool) {
	sum := k.sum()
	r.mu.Lock()
	defer r.mu.Unlock()
	kept, ok := r.rows[sum]
	if !ok || kept.key != k {
		return nil, false
	}
	return kept.row, true
}

func (r *Rows) put(k rowKey, b []byte) {
	sum := k.sum()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.rows == nil || len(r.rows) >= r.max {
		r.rows = make(map[uint64]rowEntry, min(r.max, 1024))
	}
	r.rows[sum] = rowEntry{key: k, row: b}
}

// rowBuffers hold a row while it is rendered (about 1.5 KB).
var rowBuffers = sync.Pool{New: func() any { return bytes.NewBuffer(make([]byte, 0, 4<<10)) }}

// keptRow is InstanceRow, from the page's Rows when it has one.
func keptRow(inst *instancehub.Instance) templ.Component {
	return templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		rows := page(ctx).Rows
		if rows == nil {
			return InstanceRow(inst).Render(ctx, w)
		}
		k := keyOf(inst)
		if b, ok := rows.get(k); ok {
			_, err := w.Write(b)
			return err
		}
		buf := rowBuffers.Get().(*bytes.Buffer)
		defer rowBuffers.Put(buf)
		buf.Reset()
		// The row is rendered without the page: what it shows cannot
		// depend on who asked, beyond the access in its key.
		if err := InstanceRow(inst).Render(context.Background(), buf); err != nil {
			return err
		}
		rows.put(k, bytes.Clone(buf.Bytes()))
		_, err := w.Write(buf.Bytes())
		return err
	})
}

// actionReasons is actionReasonsBlock as rendered once: it shows only the
// vocabulary's words (every action, state and reason), the same on every
// page, where rendering it took a quarter of the list's templates.
func actionReasons() templ.Component { return reasonsBlock }

var reasonsBlock = func() templ.Component {
	var b strings.Builder
	if err := actionReasonsBlock().Render(context.Background(), &b); err != nil {
		panic(err) // it writes to memory
	}
	return templ.Raw(b.String())
}()
