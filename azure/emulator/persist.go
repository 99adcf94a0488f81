package emulator

import (
	"bytes"
	"database/sql"
	"encoding/json"
	jsonv2 "encoding/json/v2"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	_ "modernc.org/sqlite" // the database/sql driver "sqlite"
)

// formatVersion is the version of the database's layout (SQLite's
// user_version); a database of another is refused rather than misread,
// and one of version 2 is moved to it (migrateV2). Version 1 was one JSON
// file, which Options.Import reads.
const formatVersion = 3

// The cloud is kept in SQLite: one row per resource, written in one
// transaction per request that changed anything, so a change costs the same
// however many resources there are. A PUT adds a row with the resource's
// bodies; later changes rewrite only its model, the small JSON of what the
// rules need. The bodies are read back when a GET asks for them, so memory
// holds the models alone. Each kind of body has a table of its own, by the
// resource's row: kept in the resource's row after its model and before
// the PUT as sent (format version 2), a VM's body was read through a chain
// of overflow pages, and a Refresh of 100,000 VMs spent a third of the
// emulator's time there; every change of a model rewrote all three.
const schema = `
CREATE TABLE cloud (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	subscription TEXT NOT NULL,
	resource_group TEXT NOT NULL,
	public_ips INTEGER NOT NULL -- public addresses handed out so far
);
CREATE TABLE resources (
	id INTEGER PRIMARY KEY,
	key TEXT NOT NULL, -- type/name, for people reading the file
	model TEXT NOT NULL -- the resource's JSON, tombstones included
);
` + bodyTables + `
PRAGMA user_version = 3;
`

// bodyTables hold the bodies of each resource, by its row in resources.
const bodyTables = `
CREATE TABLE bodies (
	id INTEGER PRIMARY KEY, -- the resource's
	body BLOB NOT NULL -- what GET returns, less what is computed on read
);
CREATE TABLE sent (
	id INTEGER PRIMARY KEY, -- the resource's
	sent BLOB NOT NULL -- the PUT as the client sent it, when kept
);
`

// migrateV2 moves a database of format version 2, whose resources held
// their bodies, to this one, in one transaction: a failure leaves it as it
// was. The pages freed are reused by the rows to come.
const migrateV2 = bodyTables + `
INSERT INTO bodies (id, body) SELECT id, body FROM resources;
INSERT INTO sent (id, sent) SELECT id, sent FROM resources WHERE sent IS NOT NULL;
ALTER TABLE resources DROP COLUMN body;
ALTER TABLE resources DROP COLUMN sent;
PRAGMA user_version = 3;
`

// Every commit is synced to disk before the request is answered (WAL,
// synchronous FULL): a change the client heard of survives a crash of the
// machine. One connection: the emulator's lock orders all access anyway,
// and a database in memory lives only as long as its connection. Reads go
// through a map of the file's first 2 GB, the most SQLite maps (writes
// still go through the WAL): a Refresh of 100,000 VMs read their bodies
// with pread calls, a third of the emulator's time; the pages stay the
// kernel's to drop.
const pragmas = "_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(5000)&_pragma=mmap_size(2147418112)"

// disk is the database the cloud is kept in, with its statements prepared
// once: parsing SQL would cost more than running it.
type disk struct {
	db                                    *sql.DB
	saveCloud, insert, update, body, sent *sql.Stmt
	insertBody, insertSent                *sql.Stmt
	drop                                  [3]*sql.Stmt
	in                                    map[int]*sql.Stmt // bodiesIn's
}

// bodiesIn is the statement reading the bodies of n rows, prepared once
// for each n: a page of the VM list is one, and parsing its query took a
// tenth of the emulator's time in a Refresh. Its callers hold the cloud's
// lock.
func (d *disk) bodiesIn(n int) (*sql.Stmt, error) {
	if stmt := d.in[n]; stmt != nil {
		return stmt, nil
	}
	if len(d.in) >= 16 { // pages of many sizes: prepared again as asked
		for n, stmt := range d.in {
			stmt.Close()
			delete(d.in, n)
		}
	}
	stmt, err := d.db.Prepare("SELECT id, body FROM bodies WHERE id IN (?" + strings.Repeat(",?", n-1) + ")")
	if err != nil {
		return nil, err
	}
	if d.in == nil {
		d.in = map[int]*sql.Stmt{}
	}
	d.in[n] = stmt
	return stmt, nil
}

func (d *disk) statements() map[**sql.Stmt]string {
	return map[**sql.Stmt]string{
		&d.saveCloud: `INSERT INTO cloud (id, subscription, resource_group, public_ips) VALUES (1, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET public_ips = excluded.public_ips`,
		&d.insert:     "INSERT INTO resources (key, model) VALUES (?, ?)",
		&d.insertBody: "INSERT INTO bodies (id, body) VALUES (?, ?)",
		&d.insertSent: "INSERT INTO sent (id, sent) VALUES (?, ?)",
		&d.update:     "UPDATE resources SET model = ? WHERE id = ?",
		&d.drop[0]:    "DELETE FROM resources WHERE id = ?",
		&d.drop[1]:    "DELETE FROM bodies WHERE id = ?",
		&d.drop[2]:    "DELETE FROM sent WHERE id = ?",
		&d.body:       "SELECT body FROM bodies WHERE id = ?",
		&d.sent:       "SELECT sent FROM sent WHERE id = ?",
	}
}

// openDisk opens the database at path, creating it if needed; "" keeps it
// in memory.
func openDisk(path string) (*disk, error) {
	dsn := "file::memory:"
	if path != "" {
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return nil, fmt.Errorf("emulator: %w", err)
		}
		// Escaped: SQLite reads the name as a URI, in which "?", "#" and "%" mean something.
		dsn = "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + pragmas
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("emulator: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	d := &disk{db: db}
	if err := d.prepare(); err != nil {
		db.Close()
		return nil, fmt.Errorf("emulator: open %s: %w", path, err)
	}
	return d, nil
}

// prepare creates the tables of a new database and refuses one of another
// version.
func (d *disk) prepare() error {
	var version int
	if err := d.db.QueryRow("PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("not a database the emulator can read: %w", err)
	}
	switch version {
	case formatVersion:
	case 0:
		if _, err := d.db.Exec(schema); err != nil {
			return err
		}
	case 2:
		if err := d.migrate(migrateV2); err != nil {
			return fmt.Errorf("move format version 2 to %d: %w", formatVersion, err)
		}
		// The bodies were written after every page the file had: a
		// cloud of 100,000 VMs grew to 4.4 GB, its bodies past the 2 GB
		// SQLite maps. Rewritten, each table's pages are together again.
		// (At 100,000 VMs the move takes about two minutes, once.)
		if _, err := d.db.Exec("VACUUM"); err != nil {
			return fmt.Errorf("move format version 2 to %d: %w", formatVersion, err)
		}
	default:
		return fmt.Errorf("format version %d, want %d", version, formatVersion)
	}
	for stmt, query := range d.statements() {
		var err error
		if *stmt, err = d.db.Prepare(query); err != nil {
			return err
		}
	}
	return nil
}

// migrate runs the statements of a migration in one transaction.
func (d *disk) migrate(statements string) error {
	tx, err := d.db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // fails harmlessly once committed
	if _, err := tx.Exec(statements); err != nil {
		return err
	}
	return tx.Commit()
}

func (d *disk) close() error { return d.db.Close() }

// load reads the cloud; nil when the database holds none yet.
func (d *disk) load() (*cloud, error) {
	var sub, rg string
	var publicIPs int
	err := d.db.QueryRow("SELECT subscription, resource_group, public_ips FROM cloud").Scan(&sub, &rg, &publicIPs)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("emulator: load: %w", err)
	}
	c := newCloud(sub, rg)
	c.PublicIPs, c.disk = publicIPs, d
	rows, err := d.db.Query("SELECT id, model FROM resources")
	if err != nil {
		return nil, fmt.Errorf("emulator: load: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		r := &resource{}
		var model []byte
		if err := rows.Scan(&r.row, &model); err != nil {
			return nil, fmt.Errorf("emulator: load: %w", err)
		}
		if err := json.Unmarshal(model, r); err != nil {
			return nil, fmt.Errorf("emulator: load resource %d: %w", r.row, err)
		}
		c.restore(r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("emulator: load: %w", err)
	}
	return c, nil
}

// restore puts back a resource read from disk, live or a tombstone.
func (c *cloud) restore(r *resource) {
	r.compact()
	if !r.Deleted.IsZero() {
		c.Tombstones[r.key] = r
		return
	}
	c.Resources[r.key] = r
	c.idx.index(r)
}

// save writes what changed since the last save in one transaction. Until it
// commits, nothing is marked saved, so a failed save is tried again whole.
func (c *cloud) save() error {
	if len(c.changed) == 0 && !c.counter {
		return nil
	}
	tx, err := c.disk.db.Begin()
	if err != nil {
		return fmt.Errorf("emulator: save: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // fails harmlessly once committed
	if _, err := tx.Stmt(c.disk.saveCloud).Exec(c.SubscriptionID, c.ResourceGroup, c.PublicIPs); err != nil {
		return fmt.Errorf("emulator: save: %w", err)
	}
	rows := map[*resource]int64{}
	for r, b := range c.changed {
		row, err := c.write(tx, r, b)
		if err != nil {
			return fmt.Errorf("emulator: save %s %s: %w", r.Type, r.Name, err)
		}
		rows[r] = row
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("emulator: save: %w", err)
	}
	for r, row := range rows {
		r.row = row
	}
	clear(c.changed) // with the bodies, on disk now
	c.counter = false
	return nil
}

// write writes one changed resource and returns its row: a new row for a
// PUT, with its bodies b, its model for a change, no row for a resource no
// longer kept.
func (c *cloud) write(tx *sql.Tx, r *resource, b *bodies) (int64, error) {
	if c.Resources[r.key] != r && c.Tombstones[r.key] != r {
		if r.row != 0 {
			for _, drop := range c.disk.drop {
				if _, err := tx.Stmt(drop).Exec(r.row); err != nil {
					return 0, err
				}
			}
		}
		return 0, nil
	}
	model, err := json.Marshal(r)
	if err != nil {
		return 0, err
	}
	if r.row != 0 {
		_, err := tx.Stmt(c.disk.update).Exec(model, r.row)
		return r.row, err
	}
	res, err := tx.Stmt(c.disk.insert).Exec(r.key, model)
	if err != nil {
		return 0, err
	}
	row, err := res.LastInsertId()
	if err != nil {
		return 0, err
	}
	if _, err := tx.Stmt(c.disk.insertBody).Exec(row, b.body); err != nil {
		return 0, err
	}
	if b.sent != nil {
		if _, err := tx.Stmt(c.disk.insertSent).Exec(row, b.sent); err != nil {
			return 0, err
		}
	}
	return row, nil
}

// bodyOf is what GET returns of r, less what is computed on read.
func (c *cloud) bodyOf(r *resource) ([]byte, error) {
	if r.row == 0 {
		return c.unsaved(r).body, nil
	}
	var b []byte
	err := c.disk.body.QueryRow(r.row).Scan(&b)
	if err != nil {
		return nil, fmt.Errorf("emulator: read %s %s: %w", r.Type, r.Name, err)
	}
	return b, nil
}

// bodiesOf is bodyOf each of rs, read in one query: a page of a list. The
// bodies are good until the next call, whose buffer they share (the
// cloud's lock orders the calls).
func (c *cloud) bodiesOf(rs []*resource) ([][]byte, error) {
	out := make([][]byte, len(rs))
	at := make(map[int64]int, len(rs))
	args := make([]any, 0, len(rs))
	for i, r := range rs {
		if r.row == 0 {
			out[i] = c.unsaved(r).body
			continue
		}
		at[r.row] = i
		args = append(args, r.row)
	}
	if len(args) == 0 {
		return out, nil
	}
	stmt, err := c.disk.bodiesIn(len(args))
	if err != nil {
		return nil, fmt.Errorf("emulator: read bodies: %w", err)
	}
	rows, err := stmt.Query(args...)
	if err != nil {
		return nil, fmt.Errorf("emulator: read bodies: %w", err)
	}
	defer rows.Close()
	// The bodies are copied into a buffer the page shares, from the
	// driver's own bytes: scanned into []byte, each was copied once more
	// by database/sql, and allocated on its own.
	arena := c.arena[:0]
	found := 0
	for rows.Next() {
		var row int64
		var b sql.RawBytes
		if err := rows.Scan(&row, &b); err != nil {
			return nil, fmt.Errorf("emulator: read bodies: %w", err)
		}
		if cap(arena)-len(arena) < len(b) {
			// Room for the bodies left, were they this one's size and a
			// quarter more: one buffer, or a second small one, a page.
			arena = make([]byte, 0, (len(args)-found)*len(b)*5/4)
			if cap(arena) > cap(c.arena) {
				c.arena = arena
			}
		}
		start := len(arena)
		arena = append(arena, b...)
		out[at[row]] = arena[start:len(arena):len(arena)]
		found++
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("emulator: read bodies: %w", err)
	}
	if found != len(args) {
		return nil, fmt.Errorf("emulator: read bodies: %d of %d found", found, len(args))
	}
	return out, nil
}

// sentOf is r's last PUT body as the client sent it; nil if none was kept.
func (c *cloud) sentOf(r *resource) ([]byte, error) {
	if r.row == 0 {
		return c.unsaved(r).sent, nil
	}
	var b []byte
	err := c.disk.sent.QueryRow(r.row).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("emulator: read %s %s: %w", r.Type, r.Name, err)
	}
	return b, nil
}

// unsaved are the bodies of r's PUT, which is not saved yet.
func (c *cloud) unsaved(r *resource) *bodies {
	if b := c.changed[r]; b != nil {
		return b
	}
	return &bodies{} // never put: nothing was sent
}

// read decodes what GET returns of r into v.
func (c *cloud) read(r *resource, v any) error {
	b, err := c.bodyOf(r)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("emulator: read %s %s: %w", r.Type, r.Name, err)
	}
	return nil
}

// importJSON reads a cloud an emulator of format version 1 kept in one JSON
// file; nil when there is no such file. Every resource of it is to be
// saved. moved reports the marker (MovedMarker) in its place instead.
func importJSON(path string) (c *cloud, moved bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("emulator: import: %w", err)
	}
	type v1Resource struct {
		resource
		Ops  map[string]*operation `json:"operations"`
		Body json.RawMessage       `json:"body"`
		Sent json.RawMessage       `json:"sent"`
	}
	var v1 struct {
		Version        int                    `json:"version"`
		MovedTo        string                 `json:"movedTo"`
		SubscriptionID string                 `json:"subscriptionId"`
		ResourceGroup  string                 `json:"resourceGroup"`
		Resources      map[string]*v1Resource `json:"resources"`
		Tombstones     map[string]*v1Resource `json:"tombstones"`
		PublicIPs      int                    `json:"publicIPsAllocated"`
	}
	if err := json.Unmarshal(b, &v1); err != nil {
		return nil, false, fmt.Errorf("emulator: import %s: %w", path, err)
	}
	if v1.Version >= markerVersion && v1.MovedTo != "" {
		return nil, true, nil
	}
	if v1.Version != 1 {
		return nil, false, fmt.Errorf("emulator: import %s: format version %d, want 1", path, v1.Version)
	}
	c = newCloud(v1.SubscriptionID, v1.ResourceGroup)
	c.PublicIPs, c.counter = v1.PublicIPs, true
	for _, set := range []map[string]*v1Resource{v1.Resources, v1.Tombstones} {
		for _, old := range set {
			r := &old.resource
			for kind, op := range old.Ops {
				r.Ops.set(kind, op)
			}
			c.restore(r)
			c.changed[r] = &bodies{body: old.Body, sent: old.Sent}
		}
	}
	return c, false, nil
}

// markerVersion is the format version MovedMarker says: the builds that
// read the JSON file refuse any but 1.
const markerVersion = 2

// MovedMarker is what stands where the emulator of format version 1 kept
// its cloud, once the cloud is kept in a database: a file of format
// version 2, which the builds that read that file refuse to start on
// ("has format version 2, want 1"), where without it they would start an
// empty cloud and lose every VM from view. It says why to whoever reads it.
type MovedMarker struct {
	Version int    `json:"version"`
	MovedTo string `json:"movedTo"`
	Note    string `json:"note"`
}

// markMoved puts the marker at path, naming the database the cloud moved
// to, unless a file is there: the cloud of version 1 not yet imported, or
// the marker.
func markMoved(path, movedTo string) error {
	if _, err := os.Lstat(path); err == nil {
		return nil
	}
	b, err := json.MarshalIndent(MovedMarker{
		Version: markerVersion, MovedTo: movedTo,
		Note: "instancehub keeps the emulator's cloud in the database named by movedTo. The builds before that read this " +
			"file only: they refuse it, rather than start an empty cloud and lose the cloud's VMs from view. To go back to " +
			"such a build, restore the backup taken before the upgrade and put back the file its cloud was imported from " +
			"(named as this one, with .imported added), as the cloud was then.",
	}, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("emulator: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("emulator: %w", err)
	}
	return nil
}

// writeJSON writes v into w as mustJSON marshals it, with no copy apart.
func writeJSON(w *bytes.Buffer, v any) {
	if err := jsonv2.MarshalWrite(w, v, json.DefaultOptionsV1()); err != nil {
		panic(fmt.Sprintf("emulator: marshal %T: %v", v, err))
	}
}

// mustJSON marshals a value the SDK's models can always marshal.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("emulator: marshal %T: %v", v, err))
	}
	return b
}
