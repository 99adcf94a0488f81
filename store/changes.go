package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/instancehub/instancehub"
)

// changeCounter tells whether anything was committed since a moment.
type changeCounter interface {
	version(ctx context.Context) (int64, error)
	close() error
}

// changes tells whether anything a page shows was committed to the
// database since a moment: SQLite's data_version, read on a connection of
// its own, changes whenever another connection commits, be it one of this
// process's pool or another process's (the CLI, a second portal), and
// stays when this connection commits. So the writes that change nothing a
// page shows (a session's last-seen, a token's last use: quiet) are made on
// this connection, and leave it; every other write moves it. Reads that
// nothing has changed since are served from memory, so that a department
// polling the list all day costs no query while nothing moves.
type changes struct {
	mu   sync.Mutex
	pool *sql.DB   // one connection
	conn *sql.Conn // held for good, and opened again only if it breaks
	// read is PRAGMA data_version prepared on conn's driver connection,
	// run only inside conn.Raw: through database/sql's statement, its row
	// and its Scan, a read took 4.0 µs and 18 allocations, where this way
	// it takes 3.0 µs and 7 (every request reads the version once).
	read driver.Stmt
	dest []driver.Value // read's row
	// offset is added to conn's data_version, which a new connection
	// counts from another start: each connection's versions follow the
	// last one given (last), so that they never go back nor come again.
	// A version that went back made every read kept by version refuse
	// what it read as too old, and one that came again would serve what
	// was kept at it before.
	offset, last int64
	writing      atomic.Bool // a quiet write holds the connection
}

// errQuietWrite: the version cannot be read while a quiet write waits for
// the write lock on the connection that reads it; pages are made afresh
// meanwhile rather than wait.
var errQuietWrite = errors.New("the data version is busy with a quiet write")

func openChanges(name string) (*changes, error) {
	pool := sql.OpenDB(connector{name, writable})
	pool.SetMaxOpenConns(1)
	pool.SetMaxIdleConns(1)
	pool.SetConnMaxLifetime(0)
	pool.SetConnMaxIdleTime(0)
	c := &changes{pool: pool}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.connect(); err != nil {
		pool.Close()
		return nil, err
	}
	return c, nil
}

// connect holds a connection of the pool, prepares the version's read on
// it (parsing the pragma took as long as running it) and sets the offset
// that puts its versions after the last one given. Under mu.
func (c *changes) connect() error {
	ctx := context.Background()
	conn, err := c.pool.Conn(ctx)
	if err != nil {
		return err
	}
	err = conn.Raw(func(dc any) error {
		prep, ok := dc.(driver.ConnPrepareContext)
		if !ok {
			return errors.New("the SQLite driver prepares no statement with a context")
		}
		read, err := prep.PrepareContext(ctx, "PRAGMA data_version")
		if err != nil {
			return err
		}
		if _, ok := read.(driver.StmtQueryContext); !ok {
			read.Close()
			return errors.New("the SQLite driver's statement queries with no context")
		}
		c.read, c.dest = read, make([]driver.Value, 1)
		return nil
	})
	if err != nil {
		conn.Close()
		return err
	}
	c.conn = conn
	raw, err := c.readRaw(ctx)
	if err != nil {
		c.drop()
		return err
	}
	if c.last > 0 {
		c.offset = c.last + 1 - raw
	}
	return nil
}

// drop lets a broken connection go, for connect to replace. Under mu.
func (c *changes) drop() {
	if c.conn != nil {
		_ = c.conn.Raw(func(any) error { return c.read.Close() })
		c.conn.Close()
		c.conn, c.read = nil, nil
	}
}

// readRaw runs read on conn. Under mu.
func (c *changes) readRaw(ctx context.Context) (int64, error) {
	var v int64
	err := c.conn.Raw(func(any) error {
		rows, err := c.read.(driver.StmtQueryContext).QueryContext(ctx, nil)
		if err != nil {
			return err
		}
		defer rows.Close()
		if err := rows.Next(c.dest); err != nil {
			return err
		}
		var ok bool
		if v, ok = c.dest[0].(int64); !ok {
			return fmt.Errorf("data_version read as %T", c.dest[0])
		}
		return nil
	})
	return v, err
}

// broken tells an error that leaves the connection unusable.
func broken(err error) bool {
	return errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone)
}

// version returns the database's current data version on the watching
// connection; it differs from an earlier one if anything was committed in
// between. It is read whatever ctx says (a read interrupted midway used to
// cost the connection, and with it the count), and if the connection
// breaks all the same, the next one counts on from the last version.
func (c *changes) version(ctx context.Context) (int64, error) {
	if c.writing.Load() {
		return 0, errQuietWrite
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn == nil {
		if err := c.connect(); err != nil {
			return 0, err
		}
	}
	raw, err := c.readRaw(context.WithoutCancel(ctx))
	if err != nil {
		if broken(err) {
			c.drop()
		}
		return 0, err
	}
	v := raw + c.offset
	if v < c.last { // not SQLite's way; never give a version again
		c.offset += c.last - v
		v = c.last
	}
	c.last = v
	return v, nil
}

func (c *changes) close() error {
	c.mu.Lock()
	c.drop()
	c.mu.Unlock()
	return c.pool.Close()
}

// exec runs a quiet write on the watching connection, whose own commits
// leave its data_version as it was. It runs to its end whatever ctx says,
// as version's read does.
func (c *changes) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	c.writing.Store(true)
	defer c.writing.Store(false)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn == nil {
		if err := c.connect(); err != nil {
			return nil, err
		}
	}
	res, err := c.conn.ExecContext(context.WithoutCancel(ctx), query, args...)
	if broken(err) {
		c.drop()
	}
	return res, err
}

// execQuiet runs a write that changes nothing a page shows (a session's
// last-seen, a token's last use) without moving the data version, so that
// the pages and reads kept at it stay: on SQLite on the connection that
// reads data_version (changes.exec); on PostgreSQL in a transaction that
// puts data_version back as it found it, under the row's lock, so that no
// other write's move is undone.
func (db *DB) execQuiet(ctx context.Context, query string, args ...any) (res sql.Result, err error) {
	if db.d.postgres() {
		err = db.inTx(ctx, func(tx *Tx) error {
			var v int64
			if err := tx.QueryRowContext(ctx, `SELECT version FROM data_version WHERE id = 1 FOR UPDATE`).Scan(&v); err != nil {
				return err
			}
			var err error
			if res, err = tx.ExecContext(ctx, query, args...); err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, `UPDATE data_version SET version = ? WHERE id = 1`, v)
			return err
		})
		return res, err
	}
	c, ok := db.changes.(*changes)
	if !ok {
		return db.exec(ctx, query, args...)
	}
	began := time.Now()
	defer func() { wrote(ctx); err = db.written(err); db.timed(QueryWrite, began, err) }()
	return c.exec(ctx, query, args...)
}

// cachedPage is a page of FindInstances' answer.
type cachedPage struct {
	instances []*instancehub.Instance
	total     int
}

// copies returns copies of the kept instances, which callers may change
// (the service sets each one's Access).
//
// The copies share one allocation, as their last operations and images
// do: a page's 50 instances and 50 operations, each an object of its own,
// were a twelfth of a list render's CPU with the collector's work they
// made.
func copies(kept []*instancehub.Instance) []*instancehub.Instance {
	out := make([]*instancehub.Instance, len(kept))
	all := make([]instancehub.Instance, len(kept))
	nops, nimgs := 0, 0
	for _, inst := range kept {
		if inst.LastOperation != nil {
			nops++
		}
		if inst.OSImage != nil {
			nimgs++
		}
	}
	ops := make([]instancehub.Operation, 0, nops)
	imgs := make([]instancehub.OSImage, 0, nimgs)
	for i, inst := range kept {
		c := &all[i]
		*c = *inst
		c.Tags = maps.Clone(inst.Tags)
		c.Identity.UserAssigned = slices.Clone(inst.Identity.UserAssigned)
		if inst.LastOperation != nil {
			ops = append(ops, *inst.LastOperation)
			c.LastOperation = &ops[len(ops)-1]
		}
		for _, script := range []**instancehub.SetupScript{&c.Setup.Creation, &c.Setup.Startup} {
			if *script != nil {
				v := **script
				*script = &v
			}
		}
		if inst.OSImage != nil {
			imgs = append(imgs, *inst.OSImage)
			c.OSImage = &imgs[len(imgs)-1]
		}
		out[i] = c
	}
	return out
}

// DataVersion returns the database's data version: it differs from an
// earlier one whenever anything was committed in between, by this process
// or another, but for the quiet writes (execQuiet), which no page shows.
func (db *DB) DataVersion(ctx context.Context) (int64, error) { return db.version(ctx) }

// version is the data version as the request ctx serves first read it
// (instancehub.VersionMemo), or read now.
func (db *DB) version(ctx context.Context) (int64, error) {
	memo := instancehub.VersionMemoFromContext(ctx)
	if memo == nil {
		return db.changes.version(ctx)
	}
	if v, ok := memo.Version(); ok {
		return v, nil
	}
	v, err := db.changes.version(ctx)
	if err == nil {
		memo.Keep(v)
	}
	return v, err
}

// wrote forgets the version the request ctx serves read: its write moved it.
func wrote(ctx context.Context) {
	if memo := instancehub.VersionMemoFromContext(ctx); memo != nil {
		memo.Forget()
	}
}

// copySession returns a copy a caller may change.
func copySession(s *instancehub.Session) *instancehub.Session {
	c := *s
	u := *s.User
	u.Roles = append([]instancehub.Role(nil), s.User.Roles...)
	c.User = &u
	return &c
}

// byVersion keeps values by key for the data version they were read at;
// any commit that moves the version empties it, and a quiet write forgets
// the values it changed. It holds at most max keys: past them it starts
// over, which costs at most a read each.
type byVersion[K comparable, V any] struct {
	max     int
	mu      sync.Mutex
	version int64
	values  map[K]V
}

func newByVersion[K comparable, V any](max int) byVersion[K, V] {
	return byVersion[K, V]{max: max}
}

func (c *byVersion[K, V]) get(version int64, key K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var zero V
	if c.version != version {
		return zero, false
	}
	v, ok := c.values[key]
	return v, ok
}

// put keeps a value read after version was; one read at an older version
// than the cache's is dropped.
func (c *byVersion[K, V]) put(version int64, key K, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if version < c.version {
		return
	}
	if version != c.version || c.values == nil || len(c.values) >= c.max {
		c.version, c.values = version, make(map[K]V)
	}
	c.values[key] = v
}

// read answers key from what is kept at the request's data version, or
// reads it and keeps it for the next reads at that version; without a
// version it reads. clone makes the copies kept and handed out, so that
// what a caller changes stays its own.
func (c *byVersion[K, V]) read(ctx context.Context, db *DB, key K, clone func(V) V, read func() (V, error)) (V, error) {
	version, err := db.version(ctx)
	if err != nil {
		return read()
	}
	if kept, ok := c.get(version, key); ok {
		return clone(kept), nil
	}
	v, err := read()
	if err == nil {
		c.put(version, key, clone(v))
	}
	return v, err
}

// forget drops the values that match, which a quiet write changed without
// a new version.
func (c *byVersion[K, V]) forget(match func(K, V) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	maps.DeleteFunc(c.values, match)
}

// untoldKey names what a person was found to have nothing of waiting to be
// told ("notices", "quota answers"): kept while nothing is committed, since
// whatever comes to wait for them is a commit.
type untoldKey struct {
	what   string
	userID int64
}
